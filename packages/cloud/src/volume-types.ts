/** EC2's limits for one EBS volume of a type. */
export interface VolumeTypeLimits {
  minGiB: number;
  maxGiB: number;
  /** Provisioned IOPS: bounds, and at most `perGiB` per GiB of size. */
  iops?: { min: number; max: number; perGiB: number };
  /** MiB/s; `perIops`: at most this many MiB/s per provisioned IOPS. */
  throughput?: { min: number; max: number; perIops: number };
  /** io1/io2: IOPS must be given. */
  iopsRequired?: boolean;
}

/** The EBS volume types Plinth provisions, with EC2's limits for each: the one table every package reads. */
export const VOLUME_TYPE_LIMITS = {
  gp3: { minGiB: 1, maxGiB: 65536, iops: { min: 3000, max: 80000, perGiB: 500 }, throughput: { min: 125, max: 2000, perIops: 0.25 } },
  gp2: { minGiB: 1, maxGiB: 16384 },
  io1: { minGiB: 4, maxGiB: 16384, iops: { min: 100, max: 64000, perGiB: 50 }, iopsRequired: true },
  io2: { minGiB: 4, maxGiB: 65536, iops: { min: 100, max: 256000, perGiB: 1000 }, iopsRequired: true },
  st1: { minGiB: 125, maxGiB: 16384 },
  sc1: { minGiB: 125, maxGiB: 16384 },
  standard: { minGiB: 1, maxGiB: 1024 },
} as const satisfies Record<string, VolumeTypeLimits>;

export type VolumeType = keyof typeof VOLUME_TYPE_LIMITS;

export const VOLUME_TYPES = Object.keys(VOLUME_TYPE_LIMITS) as [VolumeType, ...VolumeType[]];

export function isVolumeType(t: string | undefined): t is VolumeType {
  return t !== undefined && Object.hasOwn(VOLUME_TYPE_LIMITS, t);
}

export function limitsOf(type: VolumeType): VolumeTypeLimits {
  return VOLUME_TYPE_LIMITS[type];
}
