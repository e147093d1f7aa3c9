import { describe, expect, it } from 'vitest';
import { isNodeLocalHandle, nodeLocalDevice } from './node-local.js';

describe('node-local volume handles', () => {
  it('name a device under /dev without its leading slash, as aws-ebs-csi-driver spells them', () => {
    expect(nodeLocalDevice('local-ebs://dev/xvdbz')).toBe('/dev/xvdbz');
    expect(nodeLocalDevice('local-ebs://dev/sdf')).toBe('/dev/sdf');
    expect(isNodeLocalHandle('local-ebs://dev/xvdbz')).toBe(true);
  });

  it('leave every other id alone', () => {
    for (const id of ['vol-0123456789abcdef0', '', 'local-ebs:/dev/xvdbz', 'LOCAL-EBS://dev/xvdbz']) {
      expect(isNodeLocalHandle(id)).toBe(false);
      expect(nodeLocalDevice(id)).toBeUndefined();
    }
  });

  it('refuse a handle naming no device, or anything but a name directly under /dev: INVALID_ARGUMENT naming the field', () => {
    for (const id of [
      'local-ebs://',
      'local-ebs:///dev/xvdbz',
      'local-ebs://xvdbz',
      'local-ebs://dev/../etc/passwd',
      'local-ebs://dev/disk/by-id/x',
      'local-ebs://dev/',
    ]) {
      expect(() => nodeLocalDevice(id, 'volume_id')).toThrow(
        expect.objectContaining({ kind: 'InvalidArgument', message: expect.stringContaining('volume_id') as string }),
      );
    }
  });
});
