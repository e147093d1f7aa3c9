import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A whole-disk block device as sysfs describes it under <sysRoot>/block/<name>. */
export interface BlockEntry {
  name: string;
  majMin: string;
  /** NVMe serial (trimmed) from <name>/device/serial; undefined for non-NVMe devices. */
  serial?: string;
  model?: string;
}

async function readTrim(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** One entry, by kernel name; undefined when sysfs has no such block device. */
export async function readBlockEntry(sysRoot: string, name: string): Promise<BlockEntry | undefined> {
  const dir = join(sysRoot, 'block', name);
  const majMin = await readTrim(join(dir, 'dev'));
  if (!majMin) return undefined;
  const entry: BlockEntry = { name, majMin };
  const serial = await readTrim(join(dir, 'device', 'serial'));
  const model = await readTrim(join(dir, 'device', 'model'));
  if (serial !== undefined) entry.serial = serial;
  if (model !== undefined) entry.model = model;
  return entry;
}

export async function listBlockEntries(sysRoot: string): Promise<BlockEntry[]> {
  let names: string[];
  try {
    names = await readdir(join(sysRoot, 'block'));
  } catch {
    return [];
  }
  const entries = await Promise.all(names.map((n) => readBlockEntry(sysRoot, n)));
  return entries.filter((e): e is BlockEntry => e !== undefined);
}
