import type { Attachments, Snapshots } from '../cloud.js';
import { TAG_CLUSTER } from '../tags.js';
import { mapValues, tagList, toAttachment, toSnapshot } from './convert.js';
import type { Ec2 } from './ec2.js';
import { createInstanceSnapshots } from './instance-snapshots.js';
import {
  clusterSnapshots,
  copySnapshot,
  createSnapshot,
  deleteSnapshot,
  describeSnapshots,
  enableFastRestores,
  fastRestoreZones,
  findSnapshotsByTag,
} from './snapshot-calls.js';

export function awsAttachments(ec2: Ec2): Attachments {
  return {
    attach: async (volumeId, instanceId, device, signal) => toAttachment(await ec2.attachVolume(volumeId, instanceId, device, signal)),
    detach: (volumeId, instanceId, signal, opts) => ec2.detachVolume(volumeId, instanceId, signal, opts?.force),
  };
}

export function awsSnapshots(ec2: Ec2): Snapshots {
  return {
    async create(spec, signal) {
      const input = {
        VolumeId: spec.volumeId,
        Description: spec.description,
        TagSpecifications: [{ ResourceType: 'snapshot' as const, Tags: tagList(spec.tags) }],
      };
      return toSnapshot(await createSnapshot(ec2, input, `snapshot of volume ${spec.volumeId}`, signal));
    },
    async createForInstance(spec, signal) {
      const input = { ...spec, excludeDataVolumeIds: spec.excludeVolumeIds, tags: tagList(spec.tags) };
      return (await createInstanceSnapshots(ec2, input, signal)).map(toSnapshot);
    },
    get: async (ids, signal) => mapValues(await describeSnapshots(ec2, [...ids], signal), toSnapshot),
    findByTag: async (clusterId, key, values, signal) =>
      mapValues(await findSnapshotsByTag(ec2, clusterId, key, [...values], signal), (ss) => ss.map(toSnapshot)),
    list: async (clusterId, opts = {}, signal) =>
      (await clusterSnapshots(ec2, clusterId, opts, signal))
        .map(toSnapshot)
        .filter((s) => s.tags[TAG_CLUSTER] === clusterId && (!opts.volumeId || s.volumeId === opts.volumeId)),
    delete: (id, signal) => deleteSnapshot(ec2, id, signal),
    copy: (spec, signal) =>
      copySnapshot(
        ec2,
        {
          SourceSnapshotId: spec.sourceSnapshotId,
          SourceRegion: spec.sourceRegion,
          ...(spec.description ? { Description: spec.description } : {}),
          ...(spec.encrypted ? { Encrypted: true } : {}),
          ...(spec.kmsKeyId ? { KmsKeyId: spec.kmsKeyId } : {}),
          TagSpecifications: [{ ResourceType: 'snapshot', Tags: tagList(spec.tags) }],
        },
        `copy of snapshot ${spec.sourceSnapshotId} (${spec.sourceRegion})`,
        signal,
      ),
    fastRestoreZones: (id, signal) => fastRestoreZones(ec2, id, signal),
    enableFastRestores: (id, zones, signal) => enableFastRestores(ec2, id, [...zones], signal),
  };
}
