import { run } from './exec.js';

export interface Probe {
  /** Filesystem type, e.g. "ext4", "xfs", "swap"; empty when none. */
  type: string;
  /** Partition-table type ("gpt", "dos"); empty when none. */
  ptType: string;
}

/**
 * Low-level probe of the device itself (blkid -p bypasses the blkid cache).
 * Exit code 2 means "no signature found": a blank device; 8 means more than one signature.
 */
export async function probe(device: string): Promise<Probe> {
  const res = await run('blkid', ['-p', '-o', 'export', device], { timeoutMs: 30_000, okCodes: [2, 8] });
  const out: Probe = { type: '', ptType: '' };
  if (res.code === 2) return out;
  // 8: several signatures at once; certainly not blank.
  if (res.code === 8) return { type: 'ambivalent', ptType: '' };
  for (const line of res.stdout.split('\n')) {
    const [k, v] = line.split('=', 2);
    if (k === 'TYPE') out.type = v ?? '';
    if (k === 'PTTYPE') out.ptType = v ?? '';
  }
  return out;
}

export function isBlank(p: Probe): boolean {
  return p.type === '' && p.ptType === '';
}
