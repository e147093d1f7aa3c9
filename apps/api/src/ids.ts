import { INSTANCE_ID, SNAPSHOT_ID, VOLUME_ID } from '@plinth/cloud';
import { Type } from 'typebox';

export { INSTANCE_ID, isInstanceId, isSnapshotId, isVolumeId, VOLUME_ID } from '@plinth/cloud';
/** BullMQ job ids: the controller's are numeric; custom ids stay within this set. */
const JOB_ID = '^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$';
export const ZONE = '^[a-z]{2}(?:-gov)?-[a-z]+-\\d+(?:-[a-z]+-\\d+)?[a-z]$';

export const isJobId = (s: string): boolean => new RegExp(JOB_ID).test(s);
export const isZone = (s: string): boolean => new RegExp(ZONE).test(s);

export const VolumeIdParam = Type.Object(
  { id: Type.String({ pattern: VOLUME_ID, description: 'EC2 volume id, e.g. vol-0123456789abcdef0' }) },
  { additionalProperties: false },
);
export const InstanceIdParam = Type.Object(
  { id: Type.String({ pattern: INSTANCE_ID, description: 'EC2 instance id, e.g. i-0123456789abcdef0' }) },
  { additionalProperties: false },
);
export const SnapshotIdParam = Type.Object(
  { id: Type.String({ pattern: SNAPSHOT_ID, description: 'EC2 snapshot id, e.g. snap-0123456789abcdef0' }) },
  { additionalProperties: false },
);
export const JobIdParam = Type.Object({ id: Type.String({ pattern: JOB_ID, description: 'Queue job id' }) }, { additionalProperties: false });
