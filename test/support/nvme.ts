/**
 * Real block devices for tests, dressed up as EBS NVMe volumes.
 *
 * - `createLoopDevice(size)`: a sparse backing file behind a real loop device,
 *   which can grow (truncate + `losetup -c`) and is always detached.
 * - `createFakeHost()`: a temp root with its own sysfs (`sysRoot`) and /dev
 *   (`devRoot`) trees. `present(loop, { volumeId })` makes a loop device look
 *   like an attached EBS volume: `<sys>/block/nvmeNn1/{dev,size,device/serial,
 *   device/model}`, a device node `<dev>/nvmeNn1` with the loop's
 *   major:minor (mknod), and `<dev>/disk/by-id/nvme-Amazon_Elastic_Block_Store_volXXX`.
 *   `remove(name)` detaches it from the fake tree (the loop stays).
 * - `cleanup()` unmounts everything under the host's root and detaches every
 *   loop device the host created. `detachAll()` is the last-resort sweep for
 *   an afterAll.
 *
 * Needs root (losetup, mknod, mount). Commands run with argument arrays.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, readFile, readlink, rm, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const run = async (cmd: string, args: string[]): Promise<string> => (await exec(cmd, args, { timeout: 60_000 })).stdout;

const EBS_MODEL = 'Amazon Elastic Block Store';

export interface LoopDevice {
  /** /dev/loopN */
  path: string;
  backingFile: string;
  /** "7:N" */
  majMin: string;
  /** Current size in bytes as the kernel sees it. */
  size(): Promise<number>;
  /** Grows the backing file and makes the kernel pick up the new size (losetup -c). */
  grow(bytes: number): Promise<void>;
  detach(): Promise<void>;
}

const liveLoops = new Set<LoopDevice>();

/** A sparse file of `bytes` behind a fresh loop device. */
async function createLoopDevice(bytes: number, dir?: string): Promise<LoopDevice> {
  const base = dir ?? (await mkdtemp(join(tmpdir(), 'plinth-loop-')));
  const backingFile = join(base, `disk-${Date.now()}-${Math.random().toString(16).slice(2, 8)}.img`);
  await writeFile(backingFile, '');
  await truncate(backingFile, bytes);
  return loopOver(backingFile, async () => {
    await rm(backingFile, { force: true });
    if (!dir) await rm(base, { recursive: true, force: true });
  });
}

/** A loop device over an existing file (kept on detach unless `dispose` removes it). */
async function loopOver(backingFile: string, dispose: () => Promise<void> = () => Promise.resolve()): Promise<LoopDevice> {
  const path = (await run('losetup', ['--find', '--show', backingFile])).trim();
  const majMin = (await readFile(`/sys/class/block/${path.replace('/dev/', '')}/dev`, 'utf8')).trim();
  const loop: LoopDevice = {
    path,
    backingFile,
    majMin,
    async size() {
      return Number((await run('blockdev', ['--getsize64', path])).trim());
    },
    async grow(newBytes: number) {
      await truncate(backingFile, newBytes);
      await run('losetup', ['-c', path]);
    },
    async detach() {
      if (!liveLoops.has(loop)) return;
      liveLoops.delete(loop);
      await run('losetup', ['-d', path]).catch(() => undefined);
      await dispose();
    },
  };
  liveLoops.add(loop);
  return loop;
}

/** Detaches every loop device created by this module that is still attached. */
export async function detachAll(): Promise<void> {
  for (const l of [...liveLoops]) await l.detach();
}

interface PresentOptions {
  volumeId: string;
  /** What sysfs reports as the serial; defaults to the volume id without its dash. Set it to lie. */
  serial?: string;
  model?: string;
}

export interface PresentedDevice {
  /** Kernel-style name, e.g. nvme1n1 */
  name: string;
  /** <devRoot>/nvme1n1 */
  devPath: string;
  /** <devRoot>/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol… */
  byIdPath: string;
  loop: LoopDevice;
}

export interface FakeHost {
  root: string;
  sysRoot: string;
  devRoot: string;
  /** A kubelet root inside the host root, for staging and target paths. */
  kubeletRoot: string;
  /** Makes `loop` appear as an attached EBS NVMe volume. */
  present(loop: LoopDevice, opts: PresentOptions): Promise<PresentedDevice>;
  /** Makes `loop` appear as a non-NVMe (Xen) disk at <devRoot>/<name>, e.g. "xvdba": no serial. */
  presentPlain(loop: LoopDevice, name: string): Promise<string>;
  /** Removes a presented device from sysfs and /dev (as a detach would); the loop device stays. */
  remove(name: string): Promise<void>;
  /** A loop device owned by this host (detached by cleanup). */
  loop(bytes: number): Promise<LoopDevice>;
  /** A loop device over an existing file (e.g. on a FUSE filesystem), owned by this host; the file stays. */
  loopOver(file: string): Promise<LoopDevice>;
  /** Unmounts everything under root, detaches this host's loops, deletes the tree. */
  cleanup(): Promise<void>;
}

const serialOf = (volumeId: string): string => volumeId.replace(/^vol-/, 'vol');

/** Mount points under `root`, deepest first. */
export async function mountsUnder(root: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const points = text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && (p === root || p.startsWith(`${root}/`)))
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export async function createFakeHost(): Promise<FakeHost> {
  const root = await mkdtemp(join(tmpdir(), 'plinth-host-'));
  const sysRoot = join(root, 'sys');
  const devRoot = join(root, 'dev');
  const kubeletRoot = join(root, 'kubelet');
  await Promise.all([mkdir(join(sysRoot, 'block'), { recursive: true }), mkdir(join(devRoot, 'disk', 'by-id'), { recursive: true }), mkdir(kubeletRoot)]);
  const loops: LoopDevice[] = [];
  let next = 1;

  const addNode = async (name: string, loop: LoopDevice, serial?: string, model?: string): Promise<string> => {
    const [major, minor] = loop.majMin.split(':') as [string, string];
    const dir = join(sysRoot, 'block', name);
    await mkdir(join(dir, 'device'), { recursive: true });
    await writeFile(join(dir, 'dev'), `${loop.majMin}\n`);
    await writeFile(join(dir, 'size'), `${Math.floor((await loop.size()) / 512)}\n`);
    // sysfs pads NVMe serial and model with spaces; the agent must trim.
    if (serial !== undefined) await writeFile(join(dir, 'device', 'serial'), `${serial.padEnd(20)}\n`);
    if (model !== undefined) await writeFile(join(dir, 'device', 'model'), `${model.padEnd(40)}\n`);
    const devPath = join(devRoot, name);
    await run('mknod', ['-m', '0660', devPath, 'b', major, minor]);
    return devPath;
  };

  const host: FakeHost = {
    root,
    sysRoot,
    devRoot,
    kubeletRoot,
    async present(loop, opts) {
      const name = `nvme${next++}n1`;
      const devPath = await addNode(name, loop, opts.serial ?? serialOf(opts.volumeId), opts.model ?? EBS_MODEL);
      const byIdPath = join(devRoot, 'disk', 'by-id', `nvme-Amazon_Elastic_Block_Store_${serialOf(opts.volumeId)}`);
      await symlink(`../../${name}`, byIdPath);
      return { name, devPath, byIdPath, loop };
    },
    async presentPlain(loop, name) {
      return addNode(name, loop);
    },
    async remove(name) {
      await rm(join(sysRoot, 'block', name), { recursive: true, force: true });
      await unlink(join(devRoot, name)).catch(() => undefined);
      const byId = join(devRoot, 'disk', 'by-id');
      for (const link of await readdir(byId)) {
        const target = await readlink(join(byId, link)).catch(() => '');
        if (target.endsWith(`/${name}`)) await unlink(join(byId, link)).catch(() => undefined);
      }
    },
    async loop(bytes) {
      const l = await createLoopDevice(bytes, root);
      loops.push(l);
      return l;
    },
    async loopOver(file) {
      const l = await loopOver(file);
      loops.push(l);
      return l;
    },
    async cleanup() {
      for (const p of await mountsUnder(root)) await run('umount', ['-l', p]).catch(() => undefined);
      for (const l of loops) await l.detach();
      await rm(root, { recursive: true, force: true });
    },
  };
  return host;
}

/** Writes `text` at `offset` of a block device (or file) and syncs it. */
export async function writeAt(dev: string, offset: number, text: string): Promise<void> {
  const fh = await open(dev, 'r+');
  try {
    await fh.write(Buffer.from(text), 0, text.length, offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Reads `length` bytes at `offset` of a block device (or file) as text. */
export async function readAt(dev: string, offset: number, length: number): Promise<string> {
  const fh = await open(dev, 'r');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, offset);
    return buf.toString();
  } finally {
    await fh.close();
  }
}
