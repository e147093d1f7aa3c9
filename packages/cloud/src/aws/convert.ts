import type {
  AvailabilityZone,
  Instance,
  InstanceTypeInfo as Ec2InstanceType,
  Snapshot,
  SnapshotInfo as Ec2SnapshotInfo,
  Tag,
  Volume,
  VolumeAttachment,
  VolumeModification,
  VolumeStatusItem,
} from '@aws-sdk/client-ec2';
import type {
  AttachmentInfo,
  InstanceInfo,
  InstanceTypeInfo,
  SnapshotInfo,
  Tags,
  VolumeInfo,
  VolumeModificationInfo,
  VolumeStatusInfo,
  ZoneInfo,
} from '../types.js';

/** EC2's answers as Plinth's domain types: the one place that reads SDK field names. */

export const tagList = (tags: Tags): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

const tagMap = (tags: Tag[] | undefined): Tags => Object.fromEntries((tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));

export function toAttachment(a: VolumeAttachment): AttachmentInfo {
  return { instanceId: a.InstanceId ?? '', device: a.Device ?? '', state: a.State ?? 'unknown', attachedAt: a.AttachTime };
}

export function toVolume(v: Volume): VolumeInfo {
  return {
    id: v.VolumeId ?? '',
    sizeGiB: v.Size ?? 0,
    type: v.VolumeType ?? '',
    iops: v.Iops,
    throughput: v.Throughput,
    encrypted: v.Encrypted ?? false,
    kmsKeyId: v.KmsKeyId,
    zone: v.AvailabilityZone ?? '',
    state: v.State ?? 'unknown',
    attachments: (v.Attachments ?? []).map(toAttachment),
    tags: tagMap(v.Tags),
    createdAt: v.CreateTime,
    snapshotId: v.SnapshotId || undefined,
    sourceVolumeId: v.SourceVolumeId,
    multiAttach: v.MultiAttachEnabled ?? false,
    initializationRate: v.VolumeInitializationRate,
  };
}

export function toSnapshot(s: Snapshot | Ec2SnapshotInfo): SnapshotInfo {
  return {
    id: s.SnapshotId ?? '',
    volumeId: s.VolumeId,
    state: s.State ?? 'unknown',
    progress: s.Progress,
    sizeGiB: s.VolumeSize,
    startedAt: s.StartTime,
    description: s.Description,
    encrypted: s.Encrypted ?? false,
    tags: tagMap(s.Tags),
  };
}

export function toInstance(i: Instance): InstanceInfo {
  return {
    id: i.InstanceId ?? '',
    type: i.InstanceType ?? '',
    zone: i.Placement?.AvailabilityZone ?? '',
    state: i.State?.Name ?? 'unknown',
    rootDevice: i.RootDeviceName,
    blockDevices: (i.BlockDeviceMappings ?? []).map((m) => ({
      device: m.DeviceName ?? '',
      volumeId: m.Ebs?.VolumeId,
      state: m.Ebs?.Status,
      deleteOnTermination: m.Ebs?.DeleteOnTermination ?? false,
    })),
    networkInterfaceCount: i.NetworkInterfaces?.length ?? 1,
  };
}

export function toInstanceType(t: Ec2InstanceType): InstanceTypeInfo {
  const store = t.InstanceStorageInfo;
  const nvme = store?.NvmeSupport !== undefined && store.NvmeSupport !== 'unsupported';
  return {
    name: t.InstanceType ?? '',
    hypervisor: t.Hypervisor,
    maxEbsAttachments: t.EbsInfo?.MaximumEbsAttachments,
    attachmentLimitType: t.EbsInfo?.AttachmentLimitType,
    nvmeInstanceStoreDisks: nvme ? (store.Disks ?? []).reduce((n, d) => n + (d.Count ?? 0), 0) : 0,
  };
}

export function toZone(z: AvailabilityZone): ZoneInfo {
  return { name: z.ZoneName ?? '', id: z.ZoneId ?? '', state: z.State ?? 'unknown', zoneType: z.ZoneType };
}

export function toModification(m: VolumeModification): VolumeModificationInfo {
  return {
    volumeId: m.VolumeId ?? '',
    state: m.ModificationState ?? 'unknown',
    progress: m.Progress,
    message: m.StatusMessage,
    startedAt: m.StartTime,
    endedAt: m.EndTime,
    originalSizeGiB: m.OriginalSize,
    targetSizeGiB: m.TargetSize,
    originalType: m.OriginalVolumeType,
    targetType: m.TargetVolumeType,
    originalIops: m.OriginalIops,
    targetIops: m.TargetIops,
    originalThroughput: m.OriginalThroughput,
    targetThroughput: m.TargetThroughput,
  };
}

export function toStatus(s: VolumeStatusItem): VolumeStatusInfo {
  return {
    volumeId: s.VolumeId ?? '',
    status: s.VolumeStatus?.Status ?? 'unknown',
    details: (s.VolumeStatus?.Details ?? []).map((d) => ({ name: d.Name ?? '', status: d.Status ?? '' })),
    events: (s.Events ?? []).map((e) => ({ type: e.EventType ?? '', description: e.Description })),
    actions: (s.Actions ?? []).map((a) => ({ code: a.Code ?? '', description: a.Description })),
  };
}

export const mapValues = <K, A, B>(m: Map<K, A>, f: (a: A) => B): Map<K, B> => new Map([...m].map(([k, v]) => [k, f(v)]));
