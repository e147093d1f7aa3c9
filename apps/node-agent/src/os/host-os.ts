import { failedPrecondition } from '@plinth/errors';
import type { IoProbe } from '../device/heartbeat.js';
import type { BlockEntry } from '../device/sysfs.js';
import type { Probe } from '../mount/blkid.js';
import type { FormatOptions, FsType } from '../mount/mkfs.js';
import type { MountEntry } from '../mount/mountinfo.js';

/** A block device node, symlinks resolved. */
export interface DeviceNode {
  path: string;
  /** The same node relative to the dev root ("nvme1n1"). */
  name: string;
  /** major:minor of the node's rdev. */
  majMin: string;
}

/** What lstat says about a path, reduced to what the node service decides on. */
export interface PathInfo {
  kind: 'directory' | 'file' | 'block' | 'other';
  size: number;
  /** major:minor of the device, for a block device node. */
  majMin?: string;
}

/** statfs(2) numbers (counts of blocks of `bsize` bytes, and of inodes). */
export interface FsStats {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** ext4's own error record (/sys/fs/ext4/<dev>/errors_count, first_error_*, last_error_*). */
export interface FsErrors {
  count: number;
  /** "ext4_lookup (inode 12)" etc., when the kernel recorded one. */
  first?: string | undefined;
  last?: string | undefined;
}

/**
 * Everything the node service needs from the operating system. `LinuxOs`
 * (./linux.ts) is the real one; `FakeOs` (./fake.ts) is an in-memory model for
 * unit tests; ./contract.ts holds the two to the same behaviour.
 *
 * Failures are domain errors (`@plinth/errors`) for commands, and Node.js
 * errno errors (code, syscall, path) for file-system calls.
 */
export interface HostOs {
  /** Whole-disk block devices as sysfs lists them: name, major:minor, NVMe serial and model. */
  blockDevices(): Promise<BlockEntry[]>;
  /** One whole-disk block device's sysfs entry by kernel name ("nvme1n1"), read without listing the others. */
  blockDevice(name: string): Promise<BlockEntry | undefined>;
  /** The block device node at `name` under the dev root ("nvme1n1", "disk/by-id/…"); undefined when absent or not a block device. */
  deviceNode(name: string): Promise<DeviceNode | undefined>;
  /** Size in bytes of a block device (a device node, or a file a device node is bind-mounted onto). */
  deviceSize(device: string): Promise<number>;

  /** Low-level filesystem / partition-table probe of a device (blkid -p). */
  probe(device: string): Promise<Probe>;
  /** Formats a blank device. */
  mkfs(fs: FsType, device: string, options: FormatOptions): Promise<void>;
  /** Size of the filesystem on a device as its superblock says (xfs needs its mount point). */
  filesystemSize(fsType: string, device: string, mountPoint?: string): Promise<number>;
  /** Grows a mounted filesystem to fill its device. */
  growOnline(fsType: string, device: string, mountPoint: string): Promise<void>;
  /** Checks and grows an unmounted ext* filesystem to fill its device. */
  growOffline(device: string): Promise<void>;

  /** The mount table (mountinfo), in mount order. */
  mounts(): Promise<MountEntry[]>;
  /** Mounts the filesystem of a device at an existing directory. */
  mount(device: string, target: string, fsType: string, options: string[]): Promise<void>;
  /** Bind-mounts a directory or a device node onto `target`, read-only when asked. */
  bindMount(source: string, target: string, readOnly: boolean, extra: string[]): Promise<void>;
  /** Unmounts the top-most mount at `target`; FAILED_PRECONDITION when nothing is mounted there. */
  unmount(target: string): Promise<void>;

  /** lstat; undefined when the path does not exist. */
  pathInfo(path: string): Promise<PathInfo | undefined>;
  realpath(path: string): Promise<string>;
  /** mkdir -p */
  mkdir(path: string): Promise<void>;
  /** Creates an empty file (keeps an existing one). */
  createFile(path: string): Promise<void>;
  /** rmdir: an empty directory only (ENOTEMPTY otherwise). */
  removeDir(path: string): Promise<void>;
  removeFile(path: string): Promise<void>;
  statfs(path: string): Promise<FsStats>;

  /** The EBS vendor log page (NVMe Get Log Page 0xD0) of a device node, unparsed; fails for a device without it. */
  ebsLogPage(device: string): Promise<Uint8Array>;
  /** The I/O heartbeat: one small O_DIRECT read of a device node (or a file one is bound onto), bounded by `timeoutMs`, off the event loop. */
  readProbe(device: string, timeoutMs: number): Promise<IoProbe>;
  /** The error counters the kernel keeps for the filesystem on `majMin` (ext4); undefined where it keeps none (xfs, or nothing mounted). */
  filesystemErrors(majMin: string): Promise<FsErrors | undefined>;
  /**
   * Reads the first entries of a directory: a shut-down filesystem (xfs after a forced shutdown) fails it with EIO.
   * Bounded: no answer within `timeoutMs` (or an earlier read of the path still waiting) fails it with ETIMEDOUT.
   */
  readDir(path: string, timeoutMs: number): Promise<void>;
}

/** The top-most mount at exactly this path, if any (later entries shadow earlier ones). */
export async function mountAt(os: HostOs, path: string): Promise<MountEntry | undefined> {
  let found: MountEntry | undefined;
  for (const m of await os.mounts()) if (m.mountPoint === path) found = m;
  return found;
}

/** Unmounts every mount stacked at `target`; nothing mounted there is fine. */
export async function unmountAll(os: HostOs, target: string): Promise<void> {
  for (let i = 0; i < 8; i++) {
    if (!(await mountAt(os, target))) return;
    await os.unmount(target);
  }
  throw failedPrecondition(`${target} is still mounted after 8 unmounts`);
}

/**
 * The sysfs entry of a device number; undefined once the device is gone. `name`, the device node's own name
 * (/dev/nvme1n1 is sysfs' nvme1n1), is read first: one entry instead of every device on the host.
 */
export async function blockDeviceByMajMin(os: HostOs, majMin: string, name?: string): Promise<BlockEntry | undefined> {
  if (name && !name.includes('/')) {
    const entry = await os.blockDevice(name);
    if (entry?.majMin === majMin) return entry;
  }
  return (await os.blockDevices()).find((e) => e.majMin === majMin);
}
