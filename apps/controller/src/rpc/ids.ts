import { invalidArgument, notFound } from '@plinth/errors';

const VOLUME_ID = /^vol-[0-9a-f]{8,17}$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

export const isVolumeId = (id: string): boolean => VOLUME_ID.test(id);
export const isInstanceId = (id: string): boolean => INSTANCE_ID.test(id);

/** A volume id is required; one not shaped like an EBS id cannot exist, so it is NOT_FOUND. */
export function requireVolumeId(id: string): string {
  if (!id) throw invalidArgument('volume_id is required');
  if (!VOLUME_ID.test(id)) throw notFound(`volume ${id} not found (not an EBS volume id)`);
  return id;
}

export function requireNodeId(id: string): string {
  if (!id) throw invalidArgument('node_id is required');
  if (!INSTANCE_ID.test(id)) throw notFound(`node ${id} not found (not an EC2 instance id)`);
  return id;
}
