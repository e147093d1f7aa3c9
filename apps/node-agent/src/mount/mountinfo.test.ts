import { describe, expect, it } from 'vitest';
import { parseMountInfo } from './mountinfo.js';

const TEXT = `22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
101 22 7:3 / /var/lib/kubelet/plugins/x/globalmount rw,relatime shared:50 - ext4 /dev/nvme1n1 rw
102 22 7:3 / /var/lib/kubelet/pods/a\\040b/mount ro,relatime shared:50 - ext4 /dev/nvme1n1 ro,errors=remount-ro
103 22 0:5 /nvme2n1 /var/lib/kubelet/dev/pod rw,nosuid shared:2 - devtmpfs udev rw,size=10k
`;

describe('parseMountInfo', () => {
  it('reads device, root, mount point (unescaped), fs type, source and both option sets', () => {
    const m = parseMountInfo(TEXT);
    expect(m).toHaveLength(4);
    expect(m[2]).toEqual({
      majMin: '7:3',
      root: '/',
      mountPoint: '/var/lib/kubelet/pods/a b/mount',
      mountOptions: ['ro', 'relatime'],
      fsType: 'ext4',
      source: '/dev/nvme1n1',
      superOptions: ['ro', 'errors=remount-ro'],
    });
    expect(m[3]).toMatchObject({ root: '/nvme2n1', fsType: 'devtmpfs' });
  });
});
