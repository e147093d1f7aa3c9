import type { FsType } from './mkfs.js';

/**
 * Filesystems the kernel driver of each requested type mounts besides its own: the ext4 driver reads ext2 and ext3;
 * ext3 (the ext4 driver in ext3 mode) refuses ext2 (no journal) and ext4 (its features); xfs reads only xfs.
 * aws-ebs-csi-driver (k8s mount-utils) mounts whatever a volume holds with the requested type and fails only when
 * the mount fails, so these are exactly the pairs it accepts; Plinth refuses the others before trying, with the
 * same answer ("already contains …") and without touching the device. `fs-compat.int.test.ts` holds the table to
 * the kernel.
 */
const READS: Record<FsType, readonly string[]> = {
  ext4: ['ext4', 'ext3', 'ext2'],
  ext3: ['ext3'],
  xfs: ['xfs'],
};

/** Whether a device holding `existing` is mounted, as it is, when a volume is staged as `requested`. */
export function mountableAs(existing: string, requested: FsType): boolean {
  return READS[requested].includes(existing);
}
