import { failedPrecondition } from '@plinth/errors';
import type { Snapshots } from '../cloud.js';
import { TAG_CLUSTER } from '../tags.js';
import { Ec2Fault } from '../errors.js';
import type { SnapshotCopySpec, SnapshotInfo, Tags, VolumeInfo } from '../types.js';
import { invalid, type World } from './world.js';

function take(w: World, v: VolumeInfo, tags: Tags, description: string | undefined): SnapshotInfo {
  const s: SnapshotInfo = {
    id: w.id('snap'),
    volumeId: v.id,
    state: 'pending',
    progress: '0%',
    sizeGiB: v.sizeGiB,
    startedAt: new Date(w.now()),
    description,
    encrypted: v.encrypted,
    tags: { ...tags },
  };
  w.snapshots.set(s.id, s);
  w.later(w.delays.snapshot, () => Object.assign(s, { state: 'completed', progress: '100%' }));
  return s;
}

const ofCluster = (s: SnapshotInfo, clusterId: string): boolean => s.tags[TAG_CLUSTER] === clusterId;

/** CopySnapshot into `w`'s region from the snapshot of another region's world, as EC2 does it: only from a completed snapshot. */
function copyInto(w: World, source: World | undefined, spec: SnapshotCopySpec): string {
  if (!source) throw new Ec2Fault('InvalidSnapshot.NotFound', `The snapshot '${spec.sourceSnapshotId}' does not exist.`);
  const src = source.snapshot(spec.sourceSnapshotId);
  if (src.state !== 'completed') throw new Ec2Fault('IncorrectState', `Snapshot is in invalid state - ${src.state}`);
  if (spec.kmsKeyId && !spec.encrypted) throw invalid('KmsKeyId requires Encrypted to be true', 'InvalidParameterCombination');
  const s: SnapshotInfo = {
    id: w.id('snap'),
    // EC2 reports copies as of a volume that does not exist.
    volumeId: 'vol-ffffffff',
    state: 'pending',
    progress: '0%',
    sizeGiB: src.sizeGiB,
    startedAt: new Date(w.now()),
    description: spec.description,
    encrypted: src.encrypted || (spec.encrypted ?? false),
    tags: { ...spec.tags },
  };
  w.snapshots.set(s.id, s);
  w.later(w.delays.copy, () => Object.assign(s, { state: 'completed', progress: '100%' }));
  return s.id;
}

/** `worldOf`: the other regions' EC2, for CopySnapshot's source. */
export function memorySnapshots(w: World, worldOf: (region: string) => World | undefined = () => undefined): Snapshots {
  return {
    create: (spec, signal) =>
      w.call('CreateSnapshot', `snapshot of volume ${spec.volumeId}`, signal, () => take(w, w.volume(spec.volumeId), spec.tags, spec.description)),
    createForInstance: (spec, signal) =>
      w.call('CreateSnapshots', `snapshots of instance ${spec.instanceId}`, signal, () => {
        const i = w.instance(spec.instanceId);
        return i.blockDevices
          .filter((b) => b.volumeId && !spec.excludeVolumeIds.includes(b.volumeId) && !(spec.excludeBootVolume && b.device === i.rootDevice))
          .map((b) => take(w, w.volume(b.volumeId!), spec.tags, spec.description));
      }),
    get: (ids, signal) =>
      w.call('DescribeSnapshots', 'snapshots', signal, () => new Map(ids.flatMap((id) => (w.snapshots.get(id) ? [[id, w.snapshots.get(id)!] as const] : [])))),
    findByTag: (clusterId, key, values, signal) =>
      w.call('DescribeSnapshots', `snapshots tagged ${key}`, signal, () => {
        const out = new Map<string, SnapshotInfo[]>();
        for (const s of w.snapshots.values()) {
          const value = s.tags[key];
          if (value !== undefined && values.includes(value) && ofCluster(s, clusterId)) out.set(value, [...(out.get(value) ?? []), s]);
        }
        return out;
      }),
    list: (clusterId, opts = {}, signal) =>
      w.call('DescribeSnapshots', `snapshots of cluster ${clusterId}`, signal, () =>
        [...w.snapshots.values()].filter((s) => ofCluster(s, clusterId) && (!opts.volumeId || s.volumeId === opts.volumeId)),
      ),
    delete: (id, signal) =>
      w.call('DeleteSnapshot', `snapshot ${id}`, signal, () => {
        w.snapshot(id);
        const restoring = [...w.volumes.values()].find((v) => v.snapshotId === id && v.state === 'creating');
        if (restoring) throw new Ec2Fault('InvalidSnapshot.InUse', `The snapshot ${id} is in use by volume ${restoring.id}`);
        w.snapshots.delete(id);
        w.fastRestores.delete(id);
      }),
    copy: (spec, signal) =>
      w.call('CopySnapshot', `copy of snapshot ${spec.sourceSnapshotId} (${spec.sourceRegion})`, signal, () => copyInto(w, worldOf(spec.sourceRegion), spec)),
    fastRestoreZones: (id, signal) =>
      w.call('DescribeFastSnapshotRestores', `fast snapshot restores of ${id}`, signal, () => [...(w.fastRestores.get(id) ?? [])]),
    enableFastRestores: (id, zones, signal) =>
      w.call('EnableFastSnapshotRestores', `snapshot ${id}`, signal, () => {
        w.snapshot(id);
        const refused = zones.filter((z) => !w.zones.includes(z));
        if (refused.length > 0)
          throw failedPrecondition(`EC2 refused fast snapshot restore for snapshot ${id} (${refused.map((z) => `${z}: InvalidAvailabilityZone`).join('; ')})`);
        w.fastRestores.set(id, new Set([...(w.fastRestores.get(id) ?? []), ...zones]));
      }),
  };
}
