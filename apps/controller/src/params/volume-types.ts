/** EBS volume types Plinth provisions, with EC2's limits for each. */
export const VOLUME_TYPES = {
  gp3: { minGiB: 1, maxGiB: 65536, iops: { min: 3000, max: 80000, perGiB: 500 }, throughput: { min: 125, max: 2000, perIops: 0.25 } },
  gp2: { minGiB: 1, maxGiB: 16384 },
  io1: { minGiB: 4, maxGiB: 16384, iops: { min: 100, max: 64000, perGiB: 50 }, iopsRequired: true },
  io2: { minGiB: 4, maxGiB: 65536, iops: { min: 100, max: 256000, perGiB: 1000 }, iopsRequired: true },
  st1: { minGiB: 125, maxGiB: 16384 },
  sc1: { minGiB: 125, maxGiB: 16384 },
  standard: { minGiB: 1, maxGiB: 1024 },
} as const satisfies Record<string, TypeLimits>;

interface TypeLimits {
  minGiB: number;
  maxGiB: number;
  iops?: { min: number; max: number; perGiB: number };
  /** MiB/s; `perIops`: at most this many MiB/s per provisioned IOPS. */
  throughput?: { min: number; max: number; perIops: number };
  iopsRequired?: boolean;
}

export type VolumeType = keyof typeof VOLUME_TYPES;

export function isVolumeType(t: string | undefined): t is VolumeType {
  return t !== undefined && Object.hasOwn(VOLUME_TYPES, t);
}

export function limitsOf(type: VolumeType): TypeLimits {
  return VOLUME_TYPES[type];
}

/**
 * The most IOPS a volume of `sizeGiB` may have: the per-GiB ratio, but never
 * below the type's minimum (EC2 gives a 1 GiB gp3 its 3000 baseline IOPS).
 */
export function ratioCap(lim: { min: number; perGiB: number }, sizeGiB: number): number {
  return Math.max(lim.min, lim.perGiB * sizeGiB);
}

