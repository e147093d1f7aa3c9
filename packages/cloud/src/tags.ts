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
