import { createHash } from 'node:crypto';
import type { SnapshotInfo, VolumeInfo } from '@plinth/cloud';
import type { VolumeGroupSnapshot } from '@plinth/csi';
import { failedPrecondition, invalidArgument } from '@plinth/errors';
import { tagSpecification } from './params/tags.js';
import { toCsiSnapshot } from './snapshot-view.js';

const GROUP_ID = /^groupsnap-[0-9a-f]{17}$/;

/** The group snapshot id of a CSI name in a cluster: derived, so a retried CreateVolumeGroupSnapshot finds its group by tag. */
export function groupSnapshotId(clusterId: string, name: string): string {
  return `groupsnap-${createHash('sha256').update(`${clusterId}\u0000${name}`).digest('hex').slice(0, 17)}`;
}

export const isGroupSnapshotId = (id: string): boolean => GROUP_ID.test(id);

/** How EC2 can snapshot a set of volumes together. */
export interface GroupPlan {
  /** The instance whose attached group volumes are snapshotted in one CreateSnapshots call. */
  instanceId?: string;
  /** Group volumes attached to that instance. */
  attached: string[];
  /** Group volumes attached nowhere: no writer, so separate snapshots are as consistent as one. */
  detached: string[];
}

const liveAttachments = (v: VolumeInfo) => v.attachments.filter((a) => a.instanceId && a.state !== 'detached');

/**
 * Plans a crash-consistent group snapshot. EC2 CreateSnapshots takes one
 * point-in-time set of snapshots of volumes attached to one instance, so
 * volumes written by different instances cannot be snapshotted together:
 * that is refused rather than faked with snapshots at different moments.
 */
export function planGroup(volumes: VolumeInfo[]): GroupPlan {
  const detached: string[] = [];
  const byInstance = new Map<string, string[]>();
  for (const v of volumes) {
    const on = liveAttachments(v).map((a) => a.instanceId);
    if (on.length === 0) detached.push(v.id);
    // A Multi-Attach volume counts for every instance it is attached to; any one of them can snapshot it.
    for (const i of on) byInstance.set(i, [...(byInstance.get(i) ?? []), v.id]);
  }
  const attachedCount = volumes.length - detached.length;
  if (attachedCount === 0) return { attached: [], detached };
  const common = [...byInstance].find(([, ids]) => ids.length === attachedCount);
  if (!common) {
    const where = volumes
      .filter((v) => liveAttachments(v).length > 0)
      .map(
        (v) =>
          `${v.id} on ${liveAttachments(v)
            .map((a) => a.instanceId)
            .join('+')}`,
      )
      .join(', ');
    throw failedPrecondition(
      `source_volume_ids: the volumes are attached to different instances (${where}); EC2 takes crash-consistent multi-volume snapshots of one instance's volumes at a time, so group them by node`,
    );
  }
  return { instanceId: common[0], attached: common[1], detached };
}

/** The CSI view of a group: ready when every member is, taken when its first member was. */
export function toGroupSnapshot(groupId: string, members: SnapshotInfo[]): VolumeGroupSnapshot {
  const snapshots = members.map((m) => ({ ...toCsiSnapshot(m), groupSnapshotId: groupId })).sort((a, b) => a.sourceVolumeId.localeCompare(b.sourceVolumeId));
  const times = snapshots.map((s) => s.creationTime?.getTime() ?? Date.now());
  return {
    groupSnapshotId: groupId,
    snapshots,
    creationTime: new Date(Math.min(...times)),
    readyToUse: snapshots.length > 0 && snapshots.every((s) => s.readyToUse),
  };
}

/** What csi-snapshotter's --extra-create-metadata adds, and the tag each becomes (as aws-ebs-csi-driver tags snapshots). */
const METADATA_TAGS: Record<string, string> = {
  'csi.storage.k8s.io/volumegroupsnapshot/name': 'kubernetes.io/created-for/volumegroupsnapshot/name',
  'csi.storage.k8s.io/volumegroupsnapshot/namespace': 'kubernetes.io/created-for/volumegroupsnapshot/namespace',
  'csi.storage.k8s.io/volumegroupsnapshotcontent/name': 'kubernetes.io/created-for/volumegroupsnapshotcontent/name',
};

/** VolumeGroupSnapshotClass parameters: `tagSpecification_N` (tags on every member snapshot) and the sidecar's metadata. */
export function parseGroupParams(params: Record<string, string>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    const meta = METADATA_TAGS[key];
    if (meta) {
      tags[meta] = value;
      continue;
    }
    const tag = tagSpecification(key, value);
    if (!tag) throw invalidArgument(`unknown parameter "${key}"; a VolumeGroupSnapshotClass takes tagSpecification_N`);
    tags[tag[0]] = tag[1];
  }
  return tags;
}
