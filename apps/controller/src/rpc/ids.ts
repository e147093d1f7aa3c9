import { isInstanceId, isVolumeId } from '@plinth/cloud';
import { invalidArgument, notFound } from '@plinth/errors';

/** A volume id is required; one not shaped like an EBS id cannot exist, so it is NOT_FOUND. */
export function requireVolumeId(id: string): string {
  if (!id) throw invalidArgument('volume_id is required');
  if (!isVolumeId(id)) throw notFound(`volume ${id} not found (not an EBS volume id)`);
  return id;
}

export function requireNodeId(id: string): string {
  if (!id) throw invalidArgument('node_id is required');
  if (!isInstanceId(id)) throw notFound(`node ${id} not found (not an EC2 instance id)`);
  return id;
}
