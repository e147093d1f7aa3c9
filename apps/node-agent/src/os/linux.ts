import { lstat, mkdir, open, opendir, readFile, realpath, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { readDirect, type IoProbe } from '../device/heartbeat.js';
import { majMinOf } from '../device/identity.js';
import { listBlockEntries, readBlockEntry, type BlockEntry } from '../device/sysfs.js';
import { probe, type Probe } from '../mount/blkid.js';
import { mkfs, type FormatOptions, type FsType } from '../mount/mkfs.js';
import { bindMount, mountDevice, unmount } from '../mount/mount.js';
import { readMounts, type MountEntry } from '../mount/mountinfo.js';
import { deviceSize, filesystemSize, growOffline, growOnline } from '../mount/resize.js';
import { readEbsLogPage } from '../nvme/nvme-cli.js';
import type { DeviceNode, FsErrors, FsStats, HostOs, PathInfo } from './host-os.js';

/** Where sysfs and /dev are (a fake tree in tests and the emulated Nitro host). */
export interface DeviceRoots {
  sysRoot: string;
  devRoot: string;
  /** The kernel's own sysfs, for /sys/dev/block and /sys/fs (default /sys; the emulated host fakes only `sysRoot`). */
  kernelSysRoot?: string;
}

const errno = (code: string, syscall: string, path: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });

const readTrim = (path: string): Promise<string | undefined> =>
  readFile(path, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  );

/**
 * The real host: node:fs, sysfs under `sysRoot`, device nodes under `devRoot`, util-linux / e2fsprogs / xfsprogs
 * through execFile, and `nvmeCli` (nvme-cli's `nvme`, or the emulated Nitro host's stand-in) for NVMe log pages.
 */
export class LinuxOs implements HostOs {
  /** Directory reads still waiting on the kernel, by path. */
  private readonly dirReads = new Set<string>();

  constructor(
    private readonly roots: DeviceRoots,
    private readonly nvmeCli = 'nvme',
  ) {}

  blockDevices(): Promise<BlockEntry[]> {
    return listBlockEntries(this.roots.sysRoot);
  }

  blockDevice(name: string): Promise<BlockEntry | undefined> {
    return readBlockEntry(this.roots.sysRoot, name);
  }

  async deviceNode(name: string): Promise<DeviceNode | undefined> {
    try {
      const real = await realpath(join(this.roots.devRoot, name));
      const st = await stat(real, { bigint: true });
      if (!st.isBlockDevice()) return undefined;
      return { path: real, name: relative(this.roots.devRoot, real), majMin: majMinOf(st.rdev) };
    } catch {
      return undefined;
    }
  }

  deviceSize(device: string): Promise<number> {
    return deviceSize(device);
  }

  probe(device: string): Promise<Probe> {
    return probe(device);
  }

  mkfs(fs: FsType, device: string, options: FormatOptions): Promise<void> {
    return mkfs(fs, device, options);
  }

  filesystemSize(fsType: string, device: string, mountPoint?: string): Promise<number> {
    return filesystemSize(fsType, device, mountPoint);
  }

  growOnline(fsType: string, device: string, mountPoint: string): Promise<void> {
    return growOnline(fsType, device, mountPoint);
  }

  growOffline(device: string): Promise<void> {
    return growOffline(device);
  }

  mounts(): Promise<MountEntry[]> {
    return readMounts();
  }

  mount(device: string, target: string, fsType: string, options: string[]): Promise<void> {
    return mountDevice(device, target, fsType, options);
  }

  bindMount(source: string, target: string, readOnly: boolean, extra: string[]): Promise<void> {
    return bindMount(source, target, readOnly, extra);
  }

  unmount(target: string): Promise<void> {
    return unmount(target);
  }

  async pathInfo(path: string): Promise<PathInfo | undefined> {
    const st = await lstat(path, { bigint: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (!st) return undefined;
    const size = Number(st.size);
    if (st.isDirectory()) return { kind: 'directory', size };
    if (st.isFile()) return { kind: 'file', size };
    if (st.isBlockDevice()) return { kind: 'block', size, majMin: majMinOf(st.rdev) };
    return { kind: 'other', size };
  }

  realpath(path: string): Promise<string> {
    return realpath(path);
  }

  async mkdir(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
  }

  async createFile(path: string): Promise<void> {
    await (await open(path, 'a')).close();
  }

  removeDir(path: string): Promise<void> {
    return rmdir(path);
  }

  removeFile(path: string): Promise<void> {
    return rm(path);
  }

  ebsLogPage(device: string): Promise<Uint8Array> {
    return readEbsLogPage(this.nvmeCli, device);
  }

  async statfs(path: string): Promise<FsStats> {
    const s = await statfs(path);
    return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree };
  }

  readProbe(device: string, timeoutMs: number): Promise<IoProbe> {
    return readDirect(device, timeoutMs);
  }

  async filesystemErrors(majMin: string): Promise<FsErrors | undefined> {
    const sys = this.roots.kernelSysRoot ?? '/sys';
    // The kernel's name of the device (loop3, nvme1n1): /sys/dev/block/<maj:min> links to it.
    const name = await realpath(join(sys, 'dev', 'block', majMin)).then(basename, () => undefined);
    if (!name) return undefined;
    const dir = join(sys, 'fs', 'ext4', name);
    const count = await readTrim(join(dir, 'errors_count'));
    if (count === undefined) return undefined;
    const where = async (which: 'first' | 'last'): Promise<string | undefined> => {
      const fn = await readTrim(join(dir, `${which}_error_func`));
      if (!fn) return undefined;
      const ino = await readTrim(join(dir, `${which}_error_ino`));
      return ino && ino !== '0' ? `${fn} (inode ${ino})` : fn;
    };
    return { count: Number(count) || 0, first: await where('first'), last: await where('last') };
  }

  async readDir(path: string, timeoutMs: number): Promise<void> {
    // A read of a hung filesystem holds a libuv thread until the kernel answers: never more than one per path.
    if (this.dirReads.has(path)) throw errno('ETIMEDOUT', 'opendir', path);
    const read = (async () => {
      const dir = await opendir(path, { bufferSize: 4 });
      try {
        await dir.read();
      } finally {
        await dir.close().catch(() => undefined);
      }
    })();
    this.dirReads.add(path);
    const done = read.finally(() => this.dirReads.delete(path));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(errno('ETIMEDOUT', 'opendir', path)), timeoutMs);
    });
    try {
      await Promise.race([done, late]);
    } finally {
      clearTimeout(timer);
      done.catch(() => undefined);
    }
  }
}
