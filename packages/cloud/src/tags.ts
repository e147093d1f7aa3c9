import type { Tags } from './types.js';

/** The tag that carries a volume's CSI name: the key that makes CreateVolume idempotent. */
export const TAG_CSI_NAME = 'CSIVolumeName';
/** The tag that marks a volume or snapshot as made by this Plinth cluster. */
export const TAG_CLUSTER = 'plinth.dev/cluster-id';
/** The tag that carries a snapshot's CSI name (aws-ebs-csi-driver's key): what makes CreateSnapshot idempotent. */
export const TAG_SNAPSHOT_NAME = 'CSIVolumeSnapshotName';
/** Tag carrying the id of the group snapshot a member snapshot belongs to (EC2 has no group object: the tag is the group). */
export const TAG_GROUP_ID = 'plinth.dev/group-snapshot-id';
/** Tag carrying the group snapshot's CSI name. */
export const TAG_GROUP_NAME = 'plinth.dev/group-snapshot-name';
/** aws-ebs-csi-driver's ownership tag ("true" on every volume and snapshot it makes): what its managed IAM policy's conditions test. */
export const TAG_EBS_CLUSTER = 'ebs.csi.aws.com/cluster';
/** aws-ebs-csi-driver's cluster-name tag (its k8s-tag-cluster-id): what its cluster-scoped IAM policy's conditions test. */
export const TAG_EBS_CLUSTER_NAME = 'ebs.csi.aws.com/cluster-name';

/**
 * The ownership tags of a volume or snapshot Plinth makes, as aws-ebs-csi-driver
 * sets them, beside Plinth's own cluster tag: `ebs.csi.aws.com/cluster=true`
 * always; with a Kubernetes cluster id also `kubernetes.io/cluster/<id>=owned`,
 * `ebs.csi.aws.com/cluster-name=<id>`, `KubernetesCluster=<id>` (volumes) and
 * `Name=<id>-dynamic-<name>`; without, `Name=<name>`.
 */
export function ownershipTags(kind: 'volume' | 'snapshot', name: string, clusterId: string, k8sClusterId?: string): Tags {
  const tags: Tags = { [TAG_CLUSTER]: clusterId, [TAG_EBS_CLUSTER]: 'true', Name: name };
  if (k8sClusterId) {
    tags[`kubernetes.io/cluster/${k8sClusterId}`] = 'owned';
    tags[TAG_EBS_CLUSTER_NAME] = k8sClusterId;
    tags.Name = `${k8sClusterId}-dynamic-${name}`;
    if (kind === 'volume') tags.KubernetesCluster = k8sClusterId;
  }
  return tags;
}

/** On a snapshot whose class asks for a cross-region copy: the region the copy goes to (set when it is created). */
export const TAG_COPY_TO_REGION = 'plinth.dev/copy-to-region';
/** On such a snapshot, "true" when its copy is kept after the snapshot is deleted (copySnapshotRetain). */
export const TAG_COPY_RETAIN = 'plinth.dev/copy-retain';
/** On a copy, in its region: the snapshot it is a copy of (what makes the copy idempotent and deletable with its source). */
export const TAG_COPY_OF = 'plinth.dev/copy-of';
/** On a copy: the region of the snapshot it is a copy of. */
export const TAG_COPY_SOURCE_REGION = 'plinth.dev/copy-source-region';
