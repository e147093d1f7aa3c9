/**
 * A disk that fails or hangs on demand, for real: a FUSE filesystem
 * (./failfs.py, python3-fusepy) holding one file passed through to a sparse
 * backing file; its reads and writes fail with EIO while `fail(true)`, and
 * block while `hang(true)`. A loop device over `file` is then a block device
 * whose I/O errors come from the kernel (this kernel has no device-mapper for
 * dm-error or dm-delay). Needs root and /dev/fuse.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'failfs.py');

export interface FailingDisk {
  /** The file to put a loop device over. */
  file: string;
  fail(on: boolean): Promise<void>;
  hang(on: boolean): Promise<void>;
  /** Unmounts the FUSE filesystem (after whatever sits on it is gone) and removes its files. */
  close(): Promise<void>;
}

async function mounted(point: string): Promise<boolean> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').some((l) => l.split(' ')[4] === point);
}

export async function startFailingDisk(dir: string, bytes: number): Promise<FailingDisk> {
  await mkdir(join(dir, 'mnt'), { recursive: true });
  const backing = join(dir, 'backing.img');
  const point = join(dir, 'mnt');
  const failFlag = join(dir, 'fail');
  const hangFlag = join(dir, 'hang');
  await writeFile(backing, '');
  await truncate(backing, bytes);
  const child: ChildProcess = spawn('/usr/bin/python3', [SCRIPT, backing, point, failFlag, hangFlag], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; !(await mounted(point)); i++) {
    if (child.exitCode !== null || i > 200) throw new Error(`failfs.py did not mount ${point}: ${stderr || `exit ${child.exitCode}`}`);
    await sleep(25);
  }
  const flag = async (file: string, on: boolean) => (on ? writeFile(file, '') : rm(file, { force: true }));
  return {
    file: join(point, 'disk.img'),
    fail: (on) => flag(failFlag, on),
    hang: (on) => flag(hangFlag, on),
    async close() {
      await flag(failFlag, false);
      await flag(hangFlag, false);
      if (await mounted(point)) await exec('umount', [point], { timeout: 30_000 }).catch(() => exec('umount', ['-l', point], { timeout: 30_000 }));
      if (child.exitCode === null) child.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
