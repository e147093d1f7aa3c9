import { isVolumeType, VOLUME_TYPES } from '@plinth/cloud';

/**
 * EC2's default Service Quotas for EBS storage per account and region, in TiB
 * ("Storage for … volumes, in TiB", service code `ebs`):
 * gp3 L-7A658B76, gp2 L-D18FCD1D, io1 L-FD252861, io2 L-09BD8365,
 * st1 L-82ACEF56, sc1 L-17AF77E8, standard L-9CF3C2EB.
 * Accounts often have raised values; set CAPACITY_QUOTAS_GIB to match yours.
 */
export const DEFAULT_QUOTAS_TIB: Readonly<Record<string, number>> = {
  gp3: 50,
  gp2: 50,
  io1: 50,
  io2: 20,
  st1: 50,
  sc1: 50,
  standard: 50,
};

export const GIB_PER_TIB = 1024;

/** The default quotas in GiB, with `overrides` (GiB per type) on top. */
export function quotasGiB(overrides: Readonly<Record<string, number>> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [type, tib] of Object.entries(DEFAULT_QUOTAS_TIB)) out[type] = tib * GIB_PER_TIB;
  return { ...out, ...overrides };
}

/**
 * Parses "gp3=102400,io2=40960" (GiB per volume type). Throws an Error naming
 * the bad part; an unknown type is an error so a typo cannot go unnoticed.
 */
export function parseQuotaOverrides(spec: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!spec?.trim()) return out;
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9]+)=(\d+)$/.exec(part);
    if (!m) throw new Error(`bad quota "${part}": expected type=GiB, e.g. gp3=102400`);
    const type = m[1]!;
    if (!isVolumeType(type)) throw new Error(`bad quota "${part}": unknown volume type "${type}"; one of ${VOLUME_TYPES.join(', ')}`);
    const gib = Number(m[2]);
    if (!Number.isSafeInteger(gib)) throw new Error(`bad quota "${part}": GiB out of range`);
    out[type] = gib;
  }
  return out;
}
