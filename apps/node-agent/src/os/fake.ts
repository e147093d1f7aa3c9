import { basename, dirname, join, relative } from 'node:path';
import { failedPrecondition, internal } from '@plinth/errors';
import type { BlockEntry } from '../device/sysfs.js';
import { EBS_MODEL, serialOf } from '../device/identity.js';
import type { Probe } from '../mount/blkid.js';
import type { FormatOptions, FsType } from '../mount/mkfs.js';
import type { MountEntry } from '../mount/mountinfo.js';
import { errno, FakeTree } from './fake-tree.js';
import type { IoProbe } from '../device/heartbeat.js';
import type { DeviceNode, FsErrors, FsStats, HostOs, PathInfo } from './host-os.js';

export interface FakeFilesystem {
  type: string;
  /** Bytes the superblock covers. */
  size: number;
  options: FormatOptions;
  usedBytes: number;
  inodes: number;
  inodesUsed: number;
  /** ext4's error record (what /sys/fs/ext4/<dev>/errors_count … would say). */
  errors?: FsErrors;
  /** Forced shutdown (xfs): directory reads fail with EIO. */
  shutdown?: boolean;
}

export interface FakeDevice {
  /** Kernel name; the node is /dev/<name>. */
  name: string;
  majMin: string;
  size: number;
  serial?: string;
  model?: string;
  fs?: FakeFilesystem;
  /** A partition table on the device ("gpt", "dos"). */
  ptType?: string;
  /** What NVMe Get Log Page 0xD0 returns (an EBS volume's statistics); absent: the device has no such page. */
  logPage?: Uint8Array;
  /** What a heartbeat read answers (default ok). */
  io?: IoProbe;
}

export interface AddDevice {
  /** An EBS NVMe volume: serial = the id without its dash, EBS model, a by-id link. */
  volumeId?: string;
  /** Kernel name; default nvme<N>n1 (or xvd<…> without a volume id). */
  name?: string;
  /** Overrides the serial sysfs reports (a lying or stale device). */
  serial?: string;
  model?: string;
  size?: number;
  /** A filesystem already on the device. */
  fs?: string;
  ptType?: string;
}

export interface FakeCall {
  op: keyof HostOs;
  args: unknown[];
}

const MiB = 1024 * 1024;
const BLOCK = 4096;
/** Mount options the kernel keeps per mount (the rest belong to the superblock). */
const PER_MOUNT = new Set(['nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime', 'relatime', 'strictatime']);
/** What the kernel's driver of each type mounts (the ext4 driver reads ext2 and ext3), as src/mount/fs-compat.int.test.ts finds on Linux. */
const DRIVER_READS: Record<string, readonly string[]> = { ext4: ['ext4', 'ext3', 'ext2'], ext3: ['ext3'], ext2: ['ext2', 'ext3'], xfs: ['xfs'] };
const EXT = /^ext[234]$/;
const ROOT_FS: MountEntry = { mountPoint: '/', majMin: '0:1', root: '/', fsType: 'rootfs', source: 'rootfs', mountOptions: ['rw'], superOptions: ['rw'] };

interface Mounted {
  entry: MountEntry;
  /** The device whose filesystem (or node) is mounted here; undefined for a bind of a plain directory. */
  device?: string;
  /** A device node bound onto a file. */
  node?: boolean;
}

/**
 * An in-memory host for unit tests: block devices with serial/model and
 * filesystems, a /dev with by-id links, directories and files, and a mount
 * table with bind mounts. Every HostOs call is recorded in `calls`;
 * `failNext(op, err)` makes the next call of `op` fail and `beforeNext`
 * changes the host just before it. It behaves like
 * LinuxOs where ./contract.ts checks both.
 */
export class FakeOs implements HostOs {
  readonly calls: FakeCall[] = [];
  private readonly devices = new Map<string, FakeDevice>();
  private readonly tree = new FakeTree((p) => this.nodeAt(p) !== undefined);
  private readonly table: Mounted[] = [];
  private readonly failures = new Map<string, Error[]>();
  private readonly hooks = new Map<string, (() => void)[]>();
  /** Devices without a sysfs entry. */
  private readonly hidden = new Set<string>();
  private next = 1;

  // --- test set-up and inspection ---

  addDevice(o: AddDevice = {}): FakeDevice {
    const n = this.next++;
    const name = o.name ?? (o.volumeId ? `nvme${n}n1` : `xvd${String.fromCharCode(96 + n)}`);
    const dev: FakeDevice = { name, majMin: o.volumeId ? `259:${n}` : `202:${n * 16}`, size: o.size ?? 64 * MiB };
    const serial = o.serial ?? (o.volumeId ? serialOf(o.volumeId) : undefined);
    if (serial !== undefined) dev.serial = serial;
    const model = o.model ?? (o.volumeId ? EBS_MODEL : undefined);
    if (model !== undefined) dev.model = model;
    if (o.fs) dev.fs = this.newFs(o.fs, dev.size, {});
    if (o.ptType) dev.ptType = o.ptType;
    this.devices.set(name, dev);
    this.hidden.delete(name);
    if (o.volumeId) this.link(`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${serialOf(o.volumeId)}`, `../../${name}`);
    return dev;
  }

  /**
   * Detaches a device: its sysfs entry, node and links go; mounts of it stay
   * (as after a force-detach). With `sysfsOnly` only the sysfs entry goes and
   * the device still answers through existing nodes and binds.
   */
  removeDevice(name: string, opts: { sysfsOnly?: boolean } = {}): void {
    if (opts.sysfsOnly) {
      this.hidden.add(name);
      return;
    }
    this.devices.delete(name);
    for (const [path, target] of this.tree.symlinks) if (basename(target) === name) this.tree.symlinks.delete(path);
  }

  device(name: string): FakeDevice {
    const d = this.devices.get(name);
    if (!d) throw new Error(`no fake device ${name}`);
    return d;
  }

  /** The volume grows (EBS modify + rescan); its filesystem does not. */
  grow(name: string, bytes: number): void {
    this.device(name).size = bytes;
  }

  link(path: string, target: string): void {
    this.tree.symlinks.set(path, target);
  }

  addDir(path: string): void {
    this.tree.addDir(path);
  }

  addFile(path: string, size = 0): void {
    this.tree.addFile(path, size);
  }

  /** The filesystem on `majMin` goes read-only underneath its mounts (errors=remount-ro). */
  superReadOnly(majMin: string): void {
    for (const m of this.table) if (m.entry.majMin === majMin) m.entry.superOptions = ['ro', ...m.entry.superOptions.filter((o) => o !== 'rw' && o !== 'ro')];
  }

  /** The device's reads now answer `probe` (an I/O error, or a hang past the heartbeat's bound). */
  setIo(name: string, probe: IoProbe | undefined): void {
    const d = this.device(name);
    if (probe) d.io = probe;
    else delete d.io;
  }

  /** The kernel records an error in the device's ext4 filesystem (as ext4_error does). */
  fsError(name: string, func = 'ext4_lookup'): void {
    const fs = this.device(name).fs;
    if (!fs) throw new Error(`no filesystem on fake device ${name}`);
    fs.errors = { count: (fs.errors?.count ?? 0) + 1, first: fs.errors?.first ?? func, last: func };
  }

  /** The device's filesystem is shut down (xfs_io -x -c shutdown). */
  shutdownFs(name: string): void {
    const fs = this.device(name).fs;
    if (!fs) throw new Error(`no filesystem on fake device ${name}`);
    fs.shutdown = true;
  }

  failNext(op: keyof HostOs, err: Error): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), err]);
  }

  /** Runs `fn` at the start of the next call of `op` (to change the host under a running operation). */
  beforeNext(op: keyof HostOs, fn: () => void): void {
    this.hooks.set(op, [...(this.hooks.get(op) ?? []), fn]);
  }

  callsOf(op: keyof HostOs): unknown[][] {
    return this.calls.filter((c) => c.op === op).map((c) => c.args);
  }

  // --- HostOs ---

  async blockDevices(): Promise<BlockEntry[]> {
    await this.enter('blockDevices');
    return [...this.devices.values()]
      .filter((d) => !this.hidden.has(d.name))
      .map((d) => {
        const e: BlockEntry = { name: d.name, majMin: d.majMin };
        if (d.serial !== undefined) e.serial = d.serial.trim();
        if (d.model !== undefined) e.model = d.model.trim();
        return e;
      });
  }
  async blockDevice(name: string): Promise<BlockEntry | undefined> {
    return (await this.blockDevices()).find((e) => e.name === name);
  }

  async deviceNode(name: string): Promise<DeviceNode | undefined> {
    await this.enter('deviceNode', name);
    let real: string;
    try {
      real = this.tree.resolve(join('/dev', name), 'realpath');
    } catch {
      return undefined;
    }
    const dev = this.nodeAt(real);
    return dev && { path: real, name: relative('/dev', real), majMin: dev.majMin };
  }

  async deviceSize(device: string): Promise<number> {
    await this.enter('deviceSize', device);
    return this.blockAt(device, `blockdev --getsize64 ${device}`).size;
  }

  async probe(device: string): Promise<Probe> {
    await this.enter('probe', device);
    const dev = this.blockAt(device, `blkid -p -o export ${device}`);
    return { type: dev.fs?.type ?? '', ptType: dev.ptType ?? '' };
  }

  async mkfs(fs: FsType, device: string, options: FormatOptions): Promise<void> {
    await this.enter('mkfs', fs, device, options);
    const dev = this.blockAt(device, `mkfs.${fs} ${device}`);
    if (this.mountsOf(dev).length > 0) throw internal(`mkfs.${fs} ${device} failed: ${device} is mounted; will not make a filesystem here!`);
    dev.fs = this.newFs(fs, dev.size, options);
    delete dev.ptType;
  }

  async filesystemSize(fsType: string, device: string, mountPoint?: string): Promise<number> {
    await this.enter('filesystemSize', fsType, device, mountPoint);
    const dev = this.blockAt(device, `dumpe2fs -h ${device}`);
    // dumpe2fs reads any ext* superblock.
    const fs = dev.fs;
    if (!fs || (fs.type !== fsType && !(EXT.test(fsType) && EXT.test(fs.type)))) throw internal(`could not read the ${fsType} size of ${mountPoint ?? device}`);
    return fs.size;
  }

  async growOnline(fsType: string, device: string, mountPoint: string): Promise<void> {
    await this.enter('growOnline', fsType, device, mountPoint);
    const dev = this.blockAt(device, `resize2fs ${device}`);
    if (!dev.fs || !this.mountsOf(dev).some((m) => m.entry.mountPoint === mountPoint))
      throw internal(`xfs_growfs ${mountPoint} failed: not a mounted filesystem`);
    dev.fs.size = Math.floor(dev.size / BLOCK) * BLOCK;
  }

  async growOffline(device: string): Promise<void> {
    await this.enter('growOffline', device);
    const dev = this.blockAt(device, `e2fsck -f -p ${device}`);
    if (this.mountsOf(dev).length > 0) throw failedPrecondition(`the filesystem on ${device} has errors fsck could not fix safely: ${device} is mounted`);
    if (!dev.fs) throw internal(`resize2fs ${device} failed: Bad magic number in super-block`);
    dev.fs.size = Math.floor(dev.size / BLOCK) * BLOCK;
  }

  async mounts(): Promise<MountEntry[]> {
    await this.enter('mounts');
    return this.table.map((m) => structuredClone(m.entry));
  }

  async mount(device: string, target: string, fsType: string, options: string[]): Promise<void> {
    await this.enter('mount', device, target, fsType, options);
    const what = `mount -t ${fsType} ${device} ${target}`;
    const dev = this.blockAt(device, what);
    const point = this.tree.existing(target);
    if (point === undefined || !this.tree.isDir(point)) throw internal(`${what} failed: mount point ${target} does not exist`);
    if (!dev.fs || !DRIVER_READS[fsType]?.includes(dev.fs.type)) throw internal(`${what} failed: wrong fs type, bad option, bad superblock on ${device}`);
    const ro = options.includes('ro') ? 'ro' : 'rw';
    const superOptions = [ro, ...options.filter((o) => !PER_MOUNT.has(o) && !['defaults', 'ro', 'rw'].includes(o))];
    const mountOptions = [ro, ...options.filter((o) => PER_MOUNT.has(o))];
    this.table.push({ entry: { mountPoint: point, majMin: dev.majMin, root: '/', fsType, source: device, mountOptions, superOptions }, device: dev.name });
  }

  async bindMount(source: string, target: string, readOnly: boolean, extra: string[]): Promise<void> {
    await this.enter('bindMount', source, target, readOnly, extra);
    const what = `mount -o bind ${source} ${target}`;
    const from = this.tree.existing(source);
    const point = this.tree.existing(target);
    if (from === undefined) throw internal(`${what} failed: special device ${source} does not exist`);
    if (point === undefined) throw internal(`${what} failed: mount point ${target} does not exist`);
    const mountOptions = [readOnly ? 'ro' : 'rw', ...extra.filter((o) => PER_MOUNT.has(o))];
    const node = this.nodeAt(from);
    if (node) {
      if (this.tree.isDir(point)) throw internal(`${what} failed: mount point is a directory`);
      const entry = { mountPoint: point, majMin: '0:5', root: `/${node.name}`, fsType: 'devtmpfs', source: 'udev', mountOptions, superOptions: ['rw'] };
      this.table.push({ entry, device: node.name, node: true });
      return;
    }
    if (!this.tree.isDir(point) || !this.tree.isDir(from)) throw internal(`${what} failed: not a directory`);
    const under = this.mountHolding(from);
    const entry = { ...structuredClone(under.entry), mountPoint: point, mountOptions };
    this.table.push(under.device === undefined ? { entry } : { entry, device: under.device });
  }

  async unmount(target: string): Promise<void> {
    await this.enter('unmount', target);
    const i = this.topIndex(target);
    if (i < 0) throw failedPrecondition(`umount ${target} failed: umount: ${target}: not mounted.`);
    this.table.splice(i, 1);
  }

  async pathInfo(path: string): Promise<PathInfo | undefined> {
    await this.enter('pathInfo', path);
    const p = this.tree.existing(path, false);
    if (p === undefined) return undefined;
    const top = this.table[this.topIndex(p)];
    if (top?.node && top.device !== undefined) {
      const dev = this.devices.get(top.device);
      return dev ? { kind: 'block', size: 0, majMin: dev.majMin } : { kind: 'other', size: 0 };
    }
    if (this.tree.isDir(p)) return { kind: 'directory', size: BLOCK };
    const size = this.tree.files.get(p);
    if (size !== undefined) return { kind: 'file', size };
    const dev = this.nodeAt(p);
    if (dev) return { kind: 'block', size: 0, majMin: dev.majMin };
    return { kind: 'other', size: 0 };
  }

  async realpath(path: string): Promise<string> {
    await this.enter('realpath', path);
    return this.tree.resolve(path, 'realpath');
  }

  async mkdir(path: string): Promise<void> {
    await this.enter('mkdir', path);
    this.tree.mkdirp(path);
  }

  async createFile(path: string): Promise<void> {
    await this.enter('createFile', path);
    const parent = this.tree.resolve(dirname(path), 'open');
    if (!this.tree.isDir(parent)) throw errno('ENOTDIR', 'open', path);
    const p = join(parent, basename(path));
    if (this.tree.isDir(p)) throw errno('EISDIR', 'open', path);
    if (!this.tree.exists(p)) this.tree.files.set(p, 0);
  }

  async removeDir(path: string): Promise<void> {
    await this.enter('removeDir', path);
    const p = this.tree.existing(path, false);
    if (p === undefined) throw errno('ENOENT', 'rmdir', path);
    if (this.topIndex(p) >= 0) throw errno('EBUSY', 'rmdir', path);
    if (!this.tree.dirs.has(p)) throw errno('ENOTDIR', 'rmdir', path);
    if (this.tree.hasChildren(p)) throw errno('ENOTEMPTY', 'rmdir', path);
    this.tree.dirs.delete(p);
  }

  async removeFile(path: string): Promise<void> {
    await this.enter('removeFile', path);
    const p = this.tree.existing(path, false);
    if (p === undefined || !this.tree.files.has(p)) throw errno(p === undefined ? 'ENOENT' : 'EISDIR', 'unlink', path);
    if (this.topIndex(p) >= 0) throw errno('EBUSY', 'unlink', path);
    this.tree.files.delete(p);
  }

  async statfs(path: string): Promise<FsStats> {
    await this.enter('statfs', path);
    const p = this.tree.resolve(path, 'statfs');
    const fs = this.devices.get(this.mountHolding(p).device ?? '')?.fs;
    if (!fs) return { bsize: BLOCK, blocks: 1 << 20, bfree: 1 << 19, bavail: 1 << 19, files: 1 << 16, ffree: 1 << 15 };
    const blocks = Math.floor(fs.size / BLOCK);
    const bfree = blocks - Math.ceil(fs.usedBytes / BLOCK);
    return { bsize: BLOCK, blocks, bfree, bavail: Math.max(0, bfree - Math.floor(blocks / 20)), files: fs.inodes, ffree: fs.inodes - fs.inodesUsed };
  }

  async ebsLogPage(device: string): Promise<Uint8Array> {
    await this.enter('ebsLogPage', device);
    const what = `nvme get-log ${device} --namespace-id=1 --log-id=0xd0 --log-len=4096 --raw-binary`;
    const dev = this.blockAt(device, what);
    if (!dev.logPage) throw internal(`${what} failed: log page: Invalid argument`);
    return dev.logPage.slice();
  }

  async readProbe(device: string, timeoutMs: number): Promise<IoProbe> {
    await this.enter('readProbe', device, timeoutMs);
    const p = this.tree.existing(device);
    const top = p === undefined ? undefined : this.table[this.topIndex(p)];
    const dev = p === undefined ? undefined : (this.nodeAt(p) ?? (top?.node ? this.devices.get(top.device ?? '') : undefined));
    if (!dev) return { kind: 'error', message: `failed to open '${device}': No such file or directory` };
    return dev.io ?? { kind: 'ok', ms: 0.1 };
  }

  async filesystemErrors(majMin: string): Promise<FsErrors | undefined> {
    await this.enter('filesystemErrors', majMin);
    const dev = [...this.devices.values()].find((d) => d.majMin === majMin);
    // The kernel keeps the record while the filesystem is mounted, and for ext4 only.
    if (!dev?.fs || dev.fs.type !== 'ext4' || this.mountsOf(dev).length === 0) return undefined;
    return { count: 0, first: undefined, last: undefined, ...dev.fs.errors };
  }

  async readDir(path: string, timeoutMs: number): Promise<void> {
    await this.enter('readDir', path, timeoutMs);
    const p = this.tree.existing(path);
    if (p === undefined) throw errno('ENOENT', 'opendir', path);
    if (!this.tree.isDir(p)) throw errno('ENOTDIR', 'opendir', path);
    if (this.devices.get(this.mountHolding(p).device ?? '')?.fs?.shutdown) throw errno('EIO', 'opendir', path);
  }

  // --- internals ---

  private async enter(op: keyof HostOs, ...args: unknown[]): Promise<void> {
    this.calls.push({ op, args });
    await Promise.resolve();
    this.hooks.get(op)?.shift()?.();
    const err = this.failures.get(op)?.shift();
    if (err) throw err;
  }

  private newFs(type: string, size: number, options: FormatOptions): FakeFilesystem {
    const fsSize = Math.floor(size / BLOCK) * BLOCK;
    const inodes = options.numberOfInodes ?? Math.floor(fsSize / (options.bytesPerInode ?? 16384));
    return { type, size: fsSize, options, usedBytes: 0, inodes, inodesUsed: 11 };
  }

  private nodeAt(p: string): FakeDevice | undefined {
    return dirname(p) === '/dev' ? this.devices.get(basename(p)) : undefined;
  }

  /** A device node path, or a file a device node is bound onto. */
  private blockAt(path: string, what: string): FakeDevice {
    const p = this.tree.existing(path);
    const top = p === undefined ? undefined : this.table[this.topIndex(p)];
    const dev = p === undefined ? undefined : (this.nodeAt(p) ?? (top?.node ? this.devices.get(top.device ?? '') : undefined));
    if (!dev) throw internal(`${what} failed: ${path}: No such device`);
    return dev;
  }

  private topIndex(p: string): number {
    return this.table.findLastIndex((m) => m.entry.mountPoint === p);
  }

  private mountsOf(dev: FakeDevice): Mounted[] {
    return this.table.filter((m) => m.device === dev.name && !m.node);
  }

  /** The mount whose filesystem holds `p`: the top-most mount at the longest mount-point prefix. */
  private mountHolding(p: string): Mounted {
    for (let q = p; ; q = dirname(q)) {
      const m = this.table[this.topIndex(q)];
      if (m) return m;
      if (q === '/') return { entry: ROOT_FS };
    }
  }
}
