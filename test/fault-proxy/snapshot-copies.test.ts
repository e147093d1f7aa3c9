import { describe, expect, it } from 'vitest';
import { CopyDelays } from './snapshot-copies.js';

const answer = (id: string) => `<CopySnapshotResponse><requestId>r</requestId><snapshotId>${id}</snapshotId></CopySnapshotResponse>`;
const described = (...ids: string[]) =>
  `<DescribeSnapshotsResponse><snapshotSet>${ids
    .map((id) => `<item><snapshotId>${id}</snapshotId><status>completed</status><progress>100%</progress><tagSet/></item>`)
    .join('')}</snapshotSet></DescribeSnapshotsResponse>`;

describe('CopyDelays', () => {
  it('reports a copy pending, its progress growing, until its delay has passed; other snapshots as they are', () => {
    const d = new CopyDelays(1000);
    d.observe(answer('snap-copy'), 0);
    expect(d.rewriteDescribeSnapshots(described('snap-other', 'snap-copy'), 250)).toBe(
      `<DescribeSnapshotsResponse><snapshotSet><item><snapshotId>snap-other</snapshotId><status>completed</status><progress>100%</progress><tagSet/></item>` +
        `<item><snapshotId>snap-copy</snapshotId><status>pending</status><progress>25%</progress><tagSet/></item></snapshotSet></DescribeSnapshotsResponse>`,
    );
    expect(d.rewriteDescribeSnapshots(described('snap-copy'), 1000)).toBe(described('snap-copy'));
  });

  it('does nothing with no delay', () => {
    const d = new CopyDelays(0);
    d.observe(answer('snap-copy'), 0);
    expect(d.rewriteDescribeSnapshots(described('snap-copy'), 1)).toBe(described('snap-copy'));
  });
});
