import type { Attachments, Volumes } from '../cloud.js';
import { TAG_CLUSTER, TAG_CSI_NAME } from '../tags.js';
import { Ec2Fault } from '../errors.js';
import type { VolumeInfo, VolumeSpec } from '../types.js';
import { isVolumeType, limitsOf } from '../volume-types.js';
import { invalid, type World } from './world.js';

function checkShape(type: string, sizeGiB: number): void {
  if (!isVolumeType(type)) throw invalid(`Value (${type}) for parameter volumeType is invalid.`);
  const lim = limitsOf(type);
  if (sizeGiB < lim.minGiB || sizeGiB > lim.maxGiB) throw invalid(`Volume of ${sizeGiB}GiB is outside the range for ${type} (${lim.minGiB}-${lim.maxGiB}).`);
}

function newVolume(w: World, spec: Omit<VolumeSpec, 'sizeGiB'> & { sizeGiB: number; sourceVolumeId?: string | undefined }): VolumeInfo {
  checkShape(spec.type, spec.sizeGiB);
  const v: VolumeInfo = {
    id: w.id('vol'),
    sizeGiB: spec.sizeGiB,
    type: spec.type,
    iops: spec.iops ?? (spec.type === 'gp3' ? 3000 : undefined),
    throughput: spec.throughput ?? (spec.type === 'gp3' ? 125 : undefined),
    encrypted: spec.encrypted ?? false,
    kmsKeyId: spec.kmsKeyId,
    zone: spec.zone,
    state: 'creating',
    attachments: [],
    tags: { ...spec.tags },
    createdAt: new Date(w.now()),
    snapshotId: spec.snapshotId,
    sourceVolumeId: spec.sourceVolumeId,
    multiAttach: spec.multiAttach ?? false,
    initializationRate: spec.initializationRate,
  };
  w.volumes.set(v.id, v);
  if (spec.clientToken) w.clientTokens.set(spec.clientToken, v.id);
  w.later(w.delays.create, () => {
    if (v.state === 'creating') v.state = 'available';
  });
  return v;
}

/** A retry with the same ClientToken answers the volume it made. */
function byToken(w: World, token: string | undefined): VolumeInfo | undefined {
  const id = token && w.clientTokens.get(token);
  return id ? w.volumes.get(id) : undefined;
}

export function memoryVolumes(w: World): Volumes {
  return {
    create: (spec, signal) =>
      w.call('CreateVolume', `volume in ${spec.zone}`, signal, () => {
        const again = byToken(w, spec.clientToken);
        if (again) return again;
        if (!w.zones.includes(spec.zone)) throw invalid(`Invalid availability zone: [${spec.zone}]`, 'InvalidZone.NotFound');
        const snap = spec.snapshotId ? w.snapshot(spec.snapshotId) : undefined;
        if (spec.initializationRate !== undefined && !snap)
          throw invalid('VolumeInitializationRate can only be specified when creating a volume from a snapshot', 'InvalidParameterCombination');
        if (spec.initializationRate !== undefined && (spec.initializationRate < 100 || spec.initializationRate > 300))
          throw invalid(`Value (${spec.initializationRate}) for parameter VolumeInitializationRate is invalid. Expected 100-300.`);
        if (snap && snap.state !== 'completed') throw new Ec2Fault('IncorrectState', `Snapshot is in invalid state - ${snap.state}`);
        const sizeGiB = spec.sizeGiB ?? snap?.sizeGiB;
        if (sizeGiB === undefined) throw invalid('The request must contain the parameter size or snapshotId', 'MissingParameter');
        if (snap?.sizeGiB !== undefined && sizeGiB < snap.sizeGiB)
          throw invalid(`Volume of ${sizeGiB}GiB is smaller than snapshot ${snap.id}, expect size >= ${snap.sizeGiB}GiB`);
        return newVolume(w, { ...spec, sizeGiB, encrypted: spec.encrypted ?? snap?.encrypted });
      }),
    copy: (spec, signal) =>
      w.call('CopyVolumes', `copy of volume ${spec.sourceVolumeId}`, signal, () => {
        const again = byToken(w, spec.clientToken);
        if (again) return again;
        const src = w.volume(spec.sourceVolumeId);
        if (src.state !== 'available' && src.state !== 'in-use') throw new Ec2Fault('IncorrectState', `Volume '${src.id}' is ${src.state}`);
        return newVolume(w, {
          ...spec,
          type: spec.type ?? src.type,
          sizeGiB: spec.sizeGiB ?? src.sizeGiB,
          zone: src.zone,
          encrypted: spec.encrypted ?? src.encrypted,
        });
      }),
    get: (ids, signal) =>
      w.call('DescribeVolumes', 'volumes', signal, () => new Map(ids.flatMap((id) => (w.volumes.get(id) ? [[id, w.volumes.get(id)!] as const] : [])))),
    findByName: (clusterId, names, signal) =>
      w.call('DescribeVolumes', 'volumes by name', signal, () => {
        const out = new Map<string, VolumeInfo[]>();
        for (const v of w.volumes.values()) {
          const name = v.tags[TAG_CSI_NAME];
          if (name !== undefined && names.includes(name) && v.tags[TAG_CLUSTER] === clusterId) out.set(name, [...(out.get(name) ?? []), v]);
        }
        return out;
      }),
    list: (clusterId, signal) =>
      w.call('DescribeVolumes', `volumes of cluster ${clusterId}`, signal, () => [...w.volumes.values()].filter((v) => v.tags[TAG_CLUSTER] === clusterId)),
    fromSnapshot: (snapshotId, signal) =>
      w.call('DescribeVolumes', `volumes from ${snapshotId}`, signal, () => [...w.volumes.values()].filter((v) => v.snapshotId === snapshotId)),
    delete: (id, signal) =>
      w.call('DeleteVolume', `volume ${id}`, signal, () => {
        const v = w.volume(id);
        if (v.attachments.length > 0) throw new Ec2Fault('VolumeInUse', `Volume ${id} is currently attached to ${v.attachments[0]!.instanceId}`);
        if (v.state === 'deleting') return;
        v.state = 'deleting';
        w.later(w.delays.delete, () => w.volumes.delete(id));
      }),
    modify: (id, change, signal) =>
      w.call('ModifyVolume', `volume ${id}`, signal, () => {
        const v = w.volume(id);
        const mods = w.modifications.get(id) ?? [];
        if (mods.some((m) => m.state === 'modifying')) throw new Ec2Fault('IncorrectModificationState', `Volume ${id} is already being modified`);
        const size = change.sizeGiB ?? v.sizeGiB;
        if (size < v.sizeGiB) throw invalid(`New size cannot be smaller than existing size ${v.sizeGiB}`);
        const type = change.type ?? v.type;
        checkShape(type, size);
        const target = { sizeGiB: size, type, iops: change.iops ?? v.iops, throughput: change.throughput ?? v.throughput };
        const m = {
          volumeId: id,
          state: 'modifying',
          progress: 0,
          startedAt: new Date(w.now()),
          originalSizeGiB: v.sizeGiB,
          targetSizeGiB: target.sizeGiB,
          originalType: v.type,
          targetType: target.type,
          originalIops: v.iops,
          targetIops: target.iops,
          originalThroughput: v.throughput,
          targetThroughput: target.throughput,
        };
        w.modifications.set(id, [...mods, m]);
        w.later(w.delays.modify, () => {
          Object.assign(v, target);
          Object.assign(m, { state: 'optimizing', progress: 50 });
          w.later(w.delays.modify, () => Object.assign(m, { state: 'completed', progress: 100, endedAt: new Date(w.now()) }));
        });
        return m;
      }),
    modifications: (id, signal) =>
      w.call('DescribeVolumesModifications', `volume ${id}`, signal, () => {
        w.volume(id);
        return w.modifications.get(id) ?? [];
      }),
    tag: (id, tags, signal) =>
      w.call('CreateTags', `tags of ${id}`, signal, () => {
        const r = id.startsWith('snap-') ? w.snapshot(id) : w.volume(id);
        Object.assign(r.tags, tags);
      }),
    untag: (id, keys, signal) =>
      w.call('DeleteTags', `tags of ${id}`, signal, () => {
        const r = id.startsWith('snap-') ? w.snapshot(id) : w.volume(id);
        for (const k of keys) delete r.tags[k];
      }),
    status: (ids, signal) =>
      w.call('DescribeVolumeStatus', 'status of volumes', signal, () => {
        if (!w.statusChecks) return undefined;
        const ok = (v: VolumeInfo) => ({ volumeId: v.id, status: 'ok', details: [{ name: 'io-enabled', status: 'passed' }], events: [], actions: [] });
        const of = (v: VolumeInfo) => structuredClone(w.volumeStatuses.get(v.id)) ?? ok(v);
        return new Map(ids.flatMap((id) => (w.volumes.get(id) ? [[id, of(w.volumes.get(id)!)] as const] : [])));
      }),
  };
}

export function memoryAttachments(w: World): Attachments {
  return {
    attach: (volumeId, instanceId, device, signal) =>
      w.call('AttachVolume', `volume ${volumeId} on node ${instanceId}`, signal, () => {
        const v = w.volume(volumeId);
        const i = w.instance(instanceId);
        if (i.state !== 'running' && i.state !== 'stopped') throw new Ec2Fault('IncorrectInstanceState', `Instance '${instanceId}' is ${i.state}`);
        if (v.state !== 'available' && !(v.state === 'in-use' && v.multiAttach)) {
          if (v.attachments.length > 0) throw new Ec2Fault('VolumeInUse', `${volumeId} is already attached to an instance`);
          throw new Ec2Fault('IncorrectState', `Volume '${volumeId}' is in the '${v.state}' state.`);
        }
        if (v.zone !== i.zone)
          throw new Ec2Fault('InvalidVolume.ZoneMismatch', `The volume '${volumeId}' is not in the same availability zone as instance '${instanceId}'`);
        if (i.rootDevice === device || i.blockDevices.some((b) => b.device === device))
          throw invalid(`Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`);
        const a = { instanceId, device, state: 'attaching', attachedAt: new Date(w.now()) };
        v.attachments.push(a);
        v.state = 'in-use';
        const mapping = { device, volumeId, state: 'attaching', deleteOnTermination: false };
        i.blockDevices.push(mapping);
        // A stuck attachment (stickAttachments) stays `attaching` until it is detached.
        if (w.stickyAttaches > 0) w.stickyAttaches -= 1;
        else
          w.later(w.delays.attach, () => {
            if (a.state === 'attaching') a.state = mapping.state = 'attached';
          });
        return a;
      }),
    detach: (volumeId, instanceId, signal) =>
      w.call('DetachVolume', `volume ${volumeId} on node ${instanceId}`, signal, () => {
        const v = w.volume(volumeId);
        w.instance(instanceId);
        const a = v.attachments.find((x) => x.instanceId === instanceId);
        if (!a) {
          if (v.attachments.length === 0) throw new Ec2Fault('IncorrectState', `Volume '${volumeId}' is in the '${v.state}' state.`);
          throw new Ec2Fault('InvalidAttachment.NotFound', `The volume ${volumeId} is not attached to ${instanceId}`);
        }
        if (a.state === 'detaching') return;
        a.state = 'detaching';
        w.later(w.delays.detach, () => {
          v.attachments = v.attachments.filter((x) => x !== a);
          if (v.attachments.length === 0 && v.state === 'in-use') v.state = 'available';
          const i = w.instances.get(instanceId);
          if (i) i.blockDevices = i.blockDevices.filter((b) => b.volumeId !== volumeId);
        });
      }),
  };
}
