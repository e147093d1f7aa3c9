import { invalidArgument } from '@plinth/errors';
import { run } from './exec.js';

export const SUPPORTED_FS = ['ext4', 'ext3', 'xfs'] as const;
export type FsType = (typeof SUPPORTED_FS)[number];

export function isSupportedFs(fs: string): fs is FsType {
  return (SUPPORTED_FS as readonly string[]).includes(fs);
}

/** Format options a StorageClass may pass through the volume context. */
export interface FormatOptions {
  blockSize?: number;
  inodeSize?: number;
  bytesPerInode?: number;
  numberOfInodes?: number;
  ext4BigAlloc?: boolean;
  ext4ClusterSize?: number;
  /** ext4's fscrypt feature (aws-ebs-csi-driver's ext4EncryptionSupport). */
  ext4EncryptionSupport?: boolean;
}

const INT_KEYS = ['blockSize', 'inodeSize', 'bytesPerInode', 'numberOfInodes', 'ext4ClusterSize'] as const;
const ALLOWED: Record<FsType, ReadonlySet<keyof FormatOptions>> = {
  ext4: new Set(['blockSize', 'inodeSize', 'bytesPerInode', 'numberOfInodes', 'ext4BigAlloc', 'ext4ClusterSize', 'ext4EncryptionSupport']),
  ext3: new Set(['blockSize', 'inodeSize', 'bytesPerInode', 'numberOfInodes']),
  xfs: new Set(['blockSize', 'inodeSize']),
};

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/**
 * Reads and validates format options from a volume context for one
 * filesystem. Keys are matched case-insensitively (StorageClass parameters
 * are often lower-cased); unknown keys are ignored (the context carries other
 * things), but a known key that does not apply to the filesystem is an error.
 */
export function parseFormatOptions(fs: FsType, context: Record<string, string>): FormatOptions {
  const lower = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  const opts: FormatOptions = {};
  for (const key of INT_KEYS) {
    const raw = lower.get(key.toLowerCase());
    if (raw === undefined || raw === '') continue;
    if (!/^[0-9]+$/.test(raw) || Number(raw) <= 0 || !Number.isSafeInteger(Number(raw))) {
      throw invalidArgument(`volume_context.${key}: expected a positive integer, got "${raw}"`);
    }
    opts[key] = Number(raw);
  }
  for (const key of ['ext4BigAlloc', 'ext4EncryptionSupport'] as const) {
    const v = lower.get(key.toLowerCase());
    if (v === undefined || v === '') continue;
    if (v !== 'true' && v !== 'false') throw invalidArgument(`volume_context.${key}: expected "true" or "false", got "${v}"`);
    opts[key] = v === 'true';
  }
  for (const k of Object.keys(opts) as (keyof FormatOptions)[]) {
    if (!ALLOWED[fs].has(k)) throw invalidArgument(`volume_context.${k} is not supported for ${fs}`);
  }
  if (opts.blockSize !== undefined) {
    const ok = fs === 'xfs' ? isPow2(opts.blockSize) && opts.blockSize >= 512 && opts.blockSize <= 65536 : [1024, 2048, 4096, 65536].includes(opts.blockSize);
    if (!ok) throw invalidArgument(`volume_context.blockSize: ${opts.blockSize} is not a valid ${fs} block size`);
  }
  if (opts.inodeSize !== undefined) {
    const ok =
      fs === 'xfs'
        ? isPow2(opts.inodeSize) && opts.inodeSize >= 256 && opts.inodeSize <= 2048
        : isPow2(opts.inodeSize) && opts.inodeSize >= 128 && opts.inodeSize <= (opts.blockSize ?? 4096);
    if (!ok) throw invalidArgument(`volume_context.inodeSize: ${opts.inodeSize} is not a valid ${fs} inode size`);
  }
  if (opts.bytesPerInode !== undefined && (opts.bytesPerInode < 1024 || opts.bytesPerInode > 67_108_864)) {
    throw invalidArgument(`volume_context.bytesPerInode: ${opts.bytesPerInode} must be between 1024 and 67108864`);
  }
  if (opts.ext4ClusterSize !== undefined) {
    if (!opts.ext4BigAlloc) throw invalidArgument('volume_context.ext4ClusterSize needs ext4BigAlloc=true');
    if (!isPow2(opts.ext4ClusterSize) || opts.ext4ClusterSize < (opts.blockSize ?? 4096)) {
      throw invalidArgument(`volume_context.ext4ClusterSize: ${opts.ext4ClusterSize} must be a power of two and at least the block size`);
    }
  }
  return opts;
}

/** mkfs arguments for a blank device (no -F/-f: a device with a signature is never handed to mkfs). */
export function mkfsArgs(fs: FsType, device: string, o: FormatOptions): { cmd: string; args: string[] } {
  if (fs === 'xfs') {
    const args: string[] = [];
    if (o.blockSize) args.push('-b', `size=${o.blockSize}`);
    if (o.inodeSize) args.push('-i', `size=${o.inodeSize}`);
    return { cmd: 'mkfs.xfs', args: [...args, device] };
  }
  // -F: mke2fs asks for confirmation on a whole-disk device otherwise.
  const args = ['-F'];
  if (o.blockSize) args.push('-b', String(o.blockSize));
  if (o.inodeSize) args.push('-I', String(o.inodeSize));
  if (o.bytesPerInode) args.push('-i', String(o.bytesPerInode));
  if (o.numberOfInodes) args.push('-N', String(o.numberOfInodes));
  const features = [...(o.ext4BigAlloc ? ['bigalloc'] : []), ...(o.ext4EncryptionSupport ? ['encrypt'] : [])];
  if (features.length > 0) args.push('-O', features.join(','));
  if (o.ext4ClusterSize) args.push('-C', String(o.ext4ClusterSize));
  return { cmd: `mkfs.${fs}`, args: [...args, device] };
}

export async function mkfs(fs: FsType, device: string, o: FormatOptions): Promise<void> {
  const { cmd, args } = mkfsArgs(fs, device, o);
  await run(cmd, args, { timeoutMs: 10 * 60_000 });
}
