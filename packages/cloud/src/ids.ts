/** EC2's resource id formats: 8 hex digits (older) or 17 (current) after the prefix. One definition for every Plinth process. */
export const VOLUME_ID = '^vol-(?:[0-9a-f]{8}|[0-9a-f]{17})$';
export const INSTANCE_ID = '^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$';
export const SNAPSHOT_ID = '^snap-(?:[0-9a-f]{8}|[0-9a-f]{17})$';

const volumeId = new RegExp(VOLUME_ID);
const instanceId = new RegExp(INSTANCE_ID);
const snapshotId = new RegExp(SNAPSHOT_ID);

export const isVolumeId = (s: string): boolean => volumeId.test(s);
export const isInstanceId = (s: string): boolean => instanceId.test(s);
export const isSnapshotId = (s: string): boolean => snapshotId.test(s);
