import { invalidArgument } from '@plinth/errors';

/** Tag keys EC2 or Plinth reserve; users may not set them. */
function checkUserTag(key: string, param: string): void {
  if (key.toLowerCase().startsWith('aws:')) throw invalidArgument(`parameter ${param}: tag key "${key}" uses the reserved "aws:" prefix`);
  if (key === 'CSIVolumeName' || key.startsWith('plinth.dev/')) throw invalidArgument(`parameter ${param}: tag key "${key}" is reserved by Plinth`);
  if (key.length > 128) throw invalidArgument(`parameter ${param}: tag key longer than 128 characters`);
}

/**
 * A `tagSpecification_N` parameter ("key=value", aws-ebs-csi-driver's spelling,
 * key matched case-insensitively) as a checked [key, value]; undefined for any
 * other parameter. Shared by StorageClass, VolumeAttributesClass and
 * VolumeSnapshotClass parameters.
 */
export function tagSpecification(rawKey: string, value: string): [string, string] | undefined {
  if (!/^tagspecification_\d+$/i.test(rawKey)) return undefined;
  const eq = value.indexOf('=');
  if (eq <= 0) throw invalidArgument(`parameter ${rawKey}: expected "key=value", got "${value}"`);
  const tagKey = value.slice(0, eq).trim();
  checkUserTag(tagKey, rawKey);
  return [tagKey, value.slice(eq + 1).trim()];
}
