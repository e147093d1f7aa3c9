import { describe, expect, it } from 'vitest';
import { mountableAs } from './fs-compat.js';

describe('mountableAs', () => {
  it('ext4 takes ext2, ext3 and ext4; ext3 and xfs only themselves; nothing takes a blank device or another filesystem', () => {
    const table = Object.fromEntries(
      (['ext4', 'ext3', 'xfs'] as const).map((requested) => [
        requested,
        ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', ''].filter((fs) => mountableAs(fs, requested)),
      ]),
    );
    expect(table).toEqual({ ext4: ['ext2', 'ext3', 'ext4'], ext3: ['ext3'], xfs: ['xfs'] });
  });
});
