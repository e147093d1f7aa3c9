/** Plinth's view of EC2 resources: the only shapes that cross the @plinth/cloud boundary. */

export type Tags = Record<string, string>;

export interface AttachmentInfo {
  instanceId: string;
  device: string;
  /** attaching, attached, detaching, detached, busy */
  state: string;
  attachedAt?: Date | undefined;
}

export interface VolumeInfo {
  id: string;
  sizeGiB: number;
  type: string;
  iops?: number | undefined;
  /** MiB/s (gp3) */
  throughput?: number | undefined;
  encrypted: boolean;
  kmsKeyId?: string | undefined;
  zone: string;
  /** creating, available, in-use, deleting, deleted, error */
  state: string;
  attachments: AttachmentInfo[];
  tags: Tags;
  createdAt?: Date | undefined;
  snapshotId?: string | undefined;
  /** The volume a CopyVolumes copy was made from. */
  sourceVolumeId?: string | undefined;
  multiAttach: boolean;
  /** EC2's provisioned initialization rate (MiB/s) of a volume restored from a snapshot. */
  initializationRate?: number | undefined;
}

export interface SnapshotInfo {
  id: string;
  volumeId?: string | undefined;
  /** pending, completed, error, recoverable, recovering */
  state: string;
  /** e.g. "100%" */
  progress?: string | undefined;
  sizeGiB?: number | undefined;
  startedAt?: Date | undefined;
  description?: string | undefined;
  encrypted: boolean;
  tags: Tags;
}

export interface BlockDeviceInfo {
  device: string;
  volumeId?: string | undefined;
  /** attaching, attached, detaching, detached */
  state?: string | undefined;
  deleteOnTermination: boolean;
}

export interface InstanceInfo {
  id: string;
  type: string;
  zone: string;
  /** pending, running, stopping, stopped (terminated instances are never answered) */
  state: string;
  rootDevice?: string | undefined;
  blockDevices: BlockDeviceInfo[];
  networkInterfaceCount: number;
}

/** What an instance type says about EBS attachments. */
export interface InstanceTypeInfo {
  name: string;
  hypervisor?: string | undefined;
  /** EC2's MaximumEbsAttachments, when it reports one. */
  maxEbsAttachments?: number | undefined;
  /** shared or dedicated */
  attachmentLimitType?: string | undefined;
  /** NVMe instance-store disks (0 when the type has none or they are not NVMe). */
  nvmeInstanceStoreDisks: number;
}

export interface ZoneInfo {
  name: string;
  /** e.g. use1-az1: the same physical zone across accounts */
  id: string;
  state: string;
  /** availability-zone, local-zone, wavelength-zone */
  zoneType?: string | undefined;
}

export interface VolumeModificationInfo {
  volumeId: string;
  /** modifying, optimizing, completed, failed */
  state: string;
  progress?: number | undefined;
  message?: string | undefined;
  startedAt?: Date | undefined;
  endedAt?: Date | undefined;
  originalSizeGiB?: number | undefined;
  targetSizeGiB?: number | undefined;
  originalType?: string | undefined;
  targetType?: string | undefined;
  originalIops?: number | undefined;
  targetIops?: number | undefined;
  originalThroughput?: number | undefined;
  targetThroughput?: number | undefined;
}

/** EC2's volume status checks (DescribeVolumeStatus). */
export interface VolumeStatusInfo {
  volumeId: string;
  /** ok, warning, impaired, insufficient-data */
  status: string;
  /** io-enabled, io-performance, … with their status */
  details: { name: string; status: string }[];
  events: { type: string; description?: string | undefined }[];
  /** What EC2 suggests doing, e.g. enable-volume-io. */
  actions: { code: string; description?: string | undefined }[];
}

export interface VolumeSpec {
  zone: string;
  sizeGiB?: number | undefined;
  type: string;
  iops?: number | undefined;
  throughput?: number | undefined;
  encrypted?: boolean | undefined;
  kmsKeyId?: string | undefined;
  snapshotId?: string | undefined;
  multiAttach?: boolean | undefined;
  /** VolumeInitializationRate, MiB/s (only with a snapshotId). */
  initializationRate?: number | undefined;
  tags: Tags;
  /** Idempotency token (EC2 ClientToken). */
  clientToken?: string | undefined;
}

/** CopyVolumes: a point-in-time copy of `sourceVolumeId` in its zone, made as the rest of the spec says. */
export type VolumeCopySpec = Omit<VolumeSpec, 'zone' | 'snapshotId' | 'type' | 'initializationRate'> & { sourceVolumeId: string; type?: string | undefined };

/** What one ModifyVolume call changes; fields left out keep EC2's behaviour for them. */
export interface VolumeChange {
  sizeGiB?: number | undefined;
  type?: string | undefined;
  iops?: number | undefined;
  throughput?: number | undefined;
}

export interface SnapshotSpec {
  volumeId: string;
  description?: string | undefined;
  tags: Tags;
}

/**
 * CopySnapshot, sent to the destination region's EC2: a copy there of a completed snapshot of `sourceRegion`,
 * tagged in the same call. `kmsKeyId` (a key of the destination region) needs `encrypted`.
 */
export interface SnapshotCopySpec {
  sourceSnapshotId: string;
  sourceRegion: string;
  description?: string | undefined;
  encrypted?: boolean | undefined;
  kmsKeyId?: string | undefined;
  tags: Tags;
}

export interface InstanceSnapshotsSpec {
  instanceId: string;
  /** Volumes attached to the instance that must not be snapshotted. */
  excludeVolumeIds: string[];
  excludeBootVolume: boolean;
  tags: Tags;
  description: string;
}
