import { readFile } from 'node:fs/promises';

/** One line of /proc/self/mountinfo. */
export interface MountEntry {
  mountPoint: string;
  /** "major:minor" of the mounted filesystem's device (st_dev). */
  majMin: string;
  /** Path inside the filesystem that is mounted here ("/" for a whole fs, a file path for a bind of a device node). */
  root: string;
  fsType: string;
  source: string;
  /** Per-mount options (ro/rw, nosuid, …). */
  mountOptions: string[];
  /** Superblock options (ro/rw, errors=…, …). */
  superOptions: string[];
}

/** Undoes the octal escapes the kernel uses for spaces, tabs, newlines and backslashes. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const f = left.split(' ');
    const r = right.split(' ');
    if (f.length < 6 || r.length < 3) continue;
    out.push({
      majMin: f[2] ?? '',
      root: unescape(f[3] ?? ''),
      mountPoint: unescape(f[4] ?? ''),
      mountOptions: (f[5] ?? '').split(','),
      fsType: r[0] ?? '',
      source: unescape(r[1] ?? ''),
      superOptions: (r[2] ?? '').split(','),
    });
  }
  return out;
}

export async function readMounts(file = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  return parseMountInfo(await readFile(file, 'utf8'));
}

/** The top-most mount at exactly this path, if any (later lines shadow earlier ones). */
export async function mountAt(path: string): Promise<MountEntry | undefined> {
  const mounts = await readMounts();
  let found: MountEntry | undefined;
  for (const m of mounts) if (m.mountPoint === path) found = m;
  return found;
}
