import { isVolumeType, VOLUME_TYPE_LIMITS, VOLUME_TYPES, type VolumeInfo } from '@plinth/cloud';

/** The fields of a volume that capacity needs. */
export type VolumeLike = Pick<VolumeInfo, 'zone' | 'type' | 'sizeGiB' | 'state'>;

export interface CapacityEntry {
  zone: string;
  type: string;
  /** GiB of this cluster's volumes of this type in this zone. */
  provisionedGiB: number;
  volumeCount: number;
  /** The regional quota for the type (EC2 quotas are per region, shared by its zones); null when unknown. */
  quotaGiB: number | null;
  /** GiB of this cluster's volumes of this type in the whole region (what the quota is measured against). */
  regionProvisionedGiB: number;
  /** quota − regionProvisioned, never below 0; null when the quota is unknown. */
  availableGiB: number | null;
  minVolumeGiB: number | null;
  maxVolumeGiB: number | null;
  /** The largest single volume that fits now: min(maxVolumeGiB, availableGiB). */
  largestVolumeGiB: number | null;
}

export interface CapacityOptions {
  /** Quota per type in GiB (see quotasGiB). */
  quotasGiB: Readonly<Record<string, number>>;
  /** Zones to report even when they hold no volume (e.g. every available zone of the region). */
  zones?: readonly string[];
  /** Types to report even when unused (default: every EBS type). */
  types?: readonly string[];
}

export interface CapacityFilter {
  zone?: string | undefined;
  type?: string | undefined;
}

/** Volumes that occupy quota: everything but deleted ones. */
export function countsAgainstQuota(v: VolumeLike): boolean {
  return v.state !== 'deleted';
}

/**
 * Capacity per zone and volume type, sorted by zone then type. Pure: the
 * input is the cluster's volumes as DescribeVolumes returns them.
 */
export function computeCapacity(volumes: readonly VolumeLike[], opts: CapacityOptions): CapacityEntry[] {
  const zones = new Set(opts.zones ?? []);
  const types = new Set(opts.types ?? VOLUME_TYPES);
  const cell = new Map<string, { gib: number; count: number }>();
  const regionGiB = new Map<string, number>();
  for (const v of volumes) {
    if (!countsAgainstQuota(v) || !v.zone || !v.type) continue;
    const size = v.sizeGiB;
    zones.add(v.zone);
    types.add(v.type);
    const key = `${v.zone}\u0000${v.type}`;
    const c = cell.get(key) ?? { gib: 0, count: 0 };
    c.gib += size;
    c.count += 1;
    cell.set(key, c);
    regionGiB.set(v.type, (regionGiB.get(v.type) ?? 0) + size);
  }
  const out: CapacityEntry[] = [];
  for (const zone of [...zones].sort()) {
    for (const type of [...types].sort()) {
      const c = cell.get(`${zone}\u0000${type}`) ?? { gib: 0, count: 0 };
      const quota = Object.hasOwn(opts.quotasGiB, type) ? opts.quotasGiB[type]! : null;
      const region = regionGiB.get(type) ?? 0;
      const available = quota === null ? null : Math.max(0, quota - region);
      const sizes = isVolumeType(type) ? VOLUME_TYPE_LIMITS[type] : undefined;
      const largest = sizes && available !== null ? largestVolumeGiB(available, sizes.minGiB, sizes.maxGiB) : null;
      out.push({
        zone,
        type,
        provisionedGiB: c.gib,
        volumeCount: c.count,
        quotaGiB: quota,
        regionProvisionedGiB: region,
        availableGiB: available,
        minVolumeGiB: sizes?.minGiB ?? null,
        maxVolumeGiB: sizes?.maxGiB ?? null,
        largestVolumeGiB: largest,
      });
    }
  }
  return out;
}

/** The largest volume that fits in `availableGiB`: at most `maxGiB`, and 0 when not even `minGiB` fits. */
export function largestVolumeGiB(availableGiB: number, minGiB: number, maxGiB: number): number {
  return availableGiB >= minGiB ? Math.min(maxGiB, availableGiB) : 0;
}

/** The zone of `capacityOf`'s answer when no zone was asked for: the quota is regional, so is the answer. */
export const WHOLE_REGION = '*';

/**
 * Capacity of one volume type in one zone, or in the whole region when
 * `zone` is undefined (then `zone` is WHOLE_REGION and `provisionedGiB`
 * counts every zone). Quotas are regional, so `availableGiB` is the same
 * either way.
 */
export function capacityOf(
  volumes: readonly VolumeLike[],
  opts: { quotasGiB: Readonly<Record<string, number>>; type: string; zone?: string | undefined },
): CapacityEntry {
  const zone = opts.zone ?? WHOLE_REGION;
  const scoped = opts.zone === undefined ? volumes.map((v) => ({ ...v, zone: v.zone && WHOLE_REGION })) : volumes;
  const entry = computeCapacity(scoped, { quotasGiB: opts.quotasGiB, zones: [zone], types: [opts.type] }).find((e) => e.zone === zone && e.type === opts.type);
  return entry!;
}

export function filterCapacity(entries: readonly CapacityEntry[], f: CapacityFilter): CapacityEntry[] {
  return entries.filter((e) => (f.zone === undefined || e.zone === f.zone) && (f.type === undefined || e.type === f.type));
}
