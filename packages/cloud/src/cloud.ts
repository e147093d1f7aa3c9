import type {
  AttachmentInfo,
  InstanceInfo,
  InstanceSnapshotsSpec,
  InstanceTypeInfo,
  SnapshotCopySpec,
  SnapshotInfo,
  SnapshotSpec,
  Tags,
  VolumeChange,
  VolumeCopySpec,
  VolumeInfo,
  VolumeModificationInfo,
  VolumeSpec,
  VolumeStatusInfo,
  ZoneInfo,
} from './types.js';

/**
 * Plinth's EC2, by purpose. Every Plinth process reaches EC2 only through
 * this interface: the real implementation (createAwsCloud) sends each call
 * through the shared rate limiter, retries and metrics; the in-memory one
 * (@plinth/cloud/memory) models EC2 for unit tests. Failures are domain
 * errors (@plinth/errors) whose EC2 code `causeCode` tells.
 *
 * Look-ups by id answer a map: ids EC2 does not know are simply absent.
 */
export interface Cloud {
  readonly volumes: Volumes;
  readonly attachments: Attachments;
  readonly snapshots: Snapshots;
  readonly instances: Instances;
  readonly zones: Zones;
  readonly regions: Regions;
  /** The region this Cloud's calls go to. */
  readonly region: string;
  /**
   * The same account's EC2 in another region (its own client, on the same endpoint setting, rate limiter,
   * retries and metrics): where snapshot copies are made, watched and deleted.
   */
  inRegion(region: string): RegionalCloud;
  /** A cheap reachability check (readiness, Probe). */
  ping(signal?: AbortSignal): Promise<void>;
  /** Frees the connections (on shutdown). */
  close(): void;
}

export interface Volumes {
  /** CreateVolume, tagged in the same call; answers the volume as EC2 first reports it (usually `creating`). */
  create(spec: VolumeSpec, signal?: AbortSignal): Promise<VolumeInfo>;
  /** CopyVolumes; Unimplemented where the endpoint does not offer it. */
  copy(spec: VolumeCopySpec, signal?: AbortSignal): Promise<VolumeInfo>;
  get(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, VolumeInfo>>;
  /** The cluster's volumes carrying these CSI names (tag CSIVolumeName), grouped by name. */
  findByName(clusterId: string, names: readonly string[], signal?: AbortSignal): Promise<Map<string, VolumeInfo[]>>;
  /** Every volume of the cluster (tag plinth.dev/cluster-id), in any state. */
  list(clusterId: string, signal?: AbortSignal): Promise<VolumeInfo[]>;
  /** Volumes restored from a snapshot, in any state. */
  fromSnapshot(snapshotId: string, signal?: AbortSignal): Promise<VolumeInfo[]>;
  delete(id: string, signal?: AbortSignal): Promise<void>;
  /** ModifyVolume with only the given fields; answers EC2's record of the modification. */
  modify(id: string, change: VolumeChange, signal?: AbortSignal): Promise<VolumeModificationInfo | undefined>;
  /** The volume's modifications (empty when never modified); Unimplemented where the endpoint does not offer them. */
  modifications(id: string, signal?: AbortSignal): Promise<VolumeModificationInfo[]>;
  /** Adds or overwrites tags. */
  tag(id: string, tags: Tags, signal?: AbortSignal): Promise<void>;
  /** Deletes the tags with these keys (DeleteTags); keys the volume lacks are no error. */
  untag(id: string, keys: readonly string[], signal?: AbortSignal): Promise<void>;
  /** EC2's status checks; undefined when the endpoint has none. */
  status(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, VolumeStatusInfo> | undefined>;
}

export interface Attachments {
  attach(volumeId: string, instanceId: string, device: string, signal?: AbortSignal): Promise<AttachmentInfo>;
  /** DetachVolume; `force`: EC2's force detach (for an attachment stuck in `attaching`, which the node never got to use). */
  detach(volumeId: string, instanceId: string, signal?: AbortSignal, opts?: { force?: boolean }): Promise<void>;
}

export interface Snapshots {
  /** CreateSnapshot, tagged in the same call; EC2 answers at once with the snapshot `pending`. */
  create(spec: SnapshotSpec, signal?: AbortSignal): Promise<SnapshotInfo>;
  /** CreateSnapshots: crash-consistent snapshots of an instance's volumes at one point in time. */
  createForInstance(spec: InstanceSnapshotsSpec, signal?: AbortSignal): Promise<SnapshotInfo[]>;
  get(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, SnapshotInfo>>;
  /** The cluster's snapshots carrying tag `key` with one of `values`, grouped by value. */
  findByTag(clusterId: string, key: string, values: readonly string[], signal?: AbortSignal): Promise<Map<string, SnapshotInfo[]>>;
  /** Every snapshot of the cluster, or only those of one source volume. */
  list(clusterId: string, opts?: { volumeId?: string | undefined }, signal?: AbortSignal): Promise<SnapshotInfo[]>;
  delete(id: string, signal?: AbortSignal): Promise<void>;
  /**
   * CopySnapshot into this Cloud's region, tagged in the same call; answers the new snapshot's id (EC2 answers
   * at once; the copy is `pending` until `completed`). The source must be `completed` (IncorrectState otherwise).
   */
  copy(spec: SnapshotCopySpec, signal?: AbortSignal): Promise<string>;
  /** Zones where fast snapshot restore is enabled or being enabled; Unimplemented where EC2 lacks the API. */
  fastRestoreZones(id: string, signal?: AbortSignal): Promise<string[]>;
  /** Unimplemented where EC2 lacks the API; FailedPrecondition naming each zone EC2 refused. */
  enableFastRestores(id: string, zones: readonly string[], signal?: AbortSignal): Promise<void>;
}

export interface Instances {
  /** Instances by id; terminated ones count as gone. */
  get(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, InstanceInfo>>;
  /** Instance types by name; unknown names are absent. */
  types(names: readonly string[], signal?: AbortSignal): Promise<Map<string, InstanceTypeInfo>>;
}

/** What Plinth does in a region other than its own: snapshot copies. */
export interface RegionalCloud {
  readonly region: string;
  readonly snapshots: Pick<Snapshots, 'copy' | 'get' | 'findByTag' | 'delete'>;
}

export interface Regions {
  /** The regions enabled for this account in its partition (DescribeRegions). */
  list(signal?: AbortSignal): Promise<string[]>;
}

export interface Zones {
  /** The zones this account can use, or with `all` every zone of the region. */
  list(opts?: { all?: boolean }, signal?: AbortSignal): Promise<ZoneInfo[]>;
}
