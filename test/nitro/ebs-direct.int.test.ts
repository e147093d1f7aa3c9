import { createHash } from 'node:crypto';
import { EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand } from '@aws-sdk/client-ebs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireStack } from '../support/stack.js';
import { EBS_BLOCK, startNitroTestbed, type NitroTestbed } from './testbed.js';

describe("the emulated Nitro host's EBS direct endpoint", () => {
  let bed: NitroTestbed;
  let ebs: EBSClient;

  beforeAll(async () => {
    const stack = requireStack();
    bed = await startNitroTestbed(stack);
    ebs = new EBSClient({ region: stack.region, endpoint: bed.ebs.endpoint, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  }, 120_000);

  afterAll(async () => {
    ebs?.destroy();
    await bed?.close();
  }, 120_000);

  it('GetSnapshotBlock answers the bytes of a listed block as of the snapshot, with their SHA256 checksum', async () => {
    const volumeId = await bed.attachedVolume(1);
    await bed.writeBlocks(volumeId, new Map([[7, 'snapshot bytes']]));
    const snap = await bed.snapshot(volumeId);
    await bed.writeBlocks(volumeId, new Map([[7, 'later bytes!!!']]));

    const list = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snap }));
    expect(list).toMatchObject({ BlockSize: EBS_BLOCK, VolumeSize: 1 });
    expect(list.Blocks?.map((b) => b.BlockIndex)).toEqual([7]);

    const got = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snap, BlockIndex: 7, BlockToken: list.Blocks![0]!.BlockToken }));
    const data = Buffer.from(await got.BlockData!.transformToByteArray());
    expect(data.length).toBe(EBS_BLOCK);
    expect(got.DataLength).toBe(EBS_BLOCK);
    expect(data.subarray(0, 14).toString()).toBe('snapshot bytes');
    expect(data.subarray(14).equals(Buffer.alloc(EBS_BLOCK - 14))).toBe(true);
    expect(got).toMatchObject({ ChecksumAlgorithm: 'SHA256', Checksum: createHash('sha256').update(data).digest('base64') });
  }, 120_000);
});
