import { isInstanceId, isNodeLocalHandle, isVolumeId } from '@plinth/cloud';
import { invalidArgument, notFound } from '@plinth/errors';

/** A volume id is required; one not shaped like an EBS id cannot exist, so it is NOT_FOUND. */
export function requireVolumeId(id: string): string {
  if (!id) throw invalidArgument('volume_id is required');
  if (isNodeLocalHandle(id))
    throw notFound(`volume ${id.slice(0, 80)} is node-local: a different pre-attached EBS volume on each node, not one volume the controller can describe`);
  if (!isVolumeId(id)) throw notFound(`volume ${id} not found (not an EBS volume id)`);
  return id;
}

export function requireNodeId(id: string): string {
  if (!id) throw invalidArgument('node_id is required');
  if (!isInstanceId(id)) throw notFound(`node ${id} not found (not an EC2 instance id)`);
  return id;
}

const MAX_NAME = 128;
// CSI forbids these control characters in names.
// eslint-disable-next-line no-control-regex
const BANNED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** A CSI object name (volume, snapshot, group snapshot): required, at most 128 characters, no control characters. */
export function requireName(name: string, field = 'name'): string {
  if (!name) throw invalidArgument(`${field} is required`);
  if (name.length > MAX_NAME || BANNED.test(name)) throw invalidArgument(`${field} must be at most ${MAX_NAME} characters without control characters`);
  return name;
}
