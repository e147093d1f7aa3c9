import { EBS_BLOCK_BYTES } from '@plinth/cloud';
import { MemoryCloud, MemorySnapshotBlocks } from '@plinth/cloud/memory';
import { BlockMetadataType, type CallContext, type GetMetadataAllocatedResponse } from '@plinth/csi';
import { isPlinthError } from '@plinth/errors';
import { beforeEach, describe, expect, it } from 'vitest';
import type { MetadataDeps } from './rpc/block-metadata.js';
import { getMetadataAllocated } from './rpc/get-metadata-allocated.js';
import { getMetadataDelta } from './rpc/get-metadata-delta.js';

const GiB = 1024 ** 3;
const B = EBS_BLOCK_BYTES;
const ctx = (): CallContext => ({ deadline: Infinity, signal: new AbortController().signal, method: 'test' });

/** Runs a streaming handler to its end: the messages sent, or the domain error it ended with (after the messages). */
async function run(
  handler: (send: (m: GetMetadataAllocatedResponse) => Promise<void>) => Promise<void>,
): Promise<{ messages: GetMetadataAllocatedResponse[]; error?: string }> {
  const messages: GetMetadataAllocatedResponse[] = [];
  try {
    await handler((m) => {
      messages.push(m);
      return Promise.resolve();
    });
    return { messages };
  } catch (err) {
    if (!isPlinthError(err)) throw err;
    return { messages, error: `${err.kind}: ${err.message}` };
  }
}
const offsets = (ms: GetMetadataAllocatedResponse[]): number[] => ms.flatMap((m) => m.blockMetadata.map((b) => b.byteOffset));

describe('SnapshotMetadata RPCs', () => {
  let now: number;
  let cloud: MemoryCloud;
  let blocks: MemorySnapshotBlocks;
  let deps: MetadataDeps;
  let volumeId: string;
  let otherVolumeId: string;
  let a: string;
  let b: string;
  let other: string;

  /** A completed snapshot of `vol` (its EC2 record in the memory cloud, its blocks in the memory EBS). */
  const snapshot = async (vol: string, written: Record<number, string>): Promise<string> => {
    const s = await cloud.snapshots.create({ volumeId: vol, tags: {} });
    blocks.record(s.id, { volumeId: vol, sizeGiB: 2, blocks: new Map(Object.entries(written).map(([k, v]) => [Number(k), v])) });
    now += 1000;
    return s.id;
  };
  const allocated = (snapshotId: string, startingOffset = 0, maxResults = 0) =>
    run((send) => getMetadataAllocated(deps, { snapshotId, startingOffset, maxResults, secrets: {} }, send, ctx()));
  const delta = (baseSnapshotId: string, targetSnapshotId: string, startingOffset = 0, maxResults = 0) =>
    run((send) => getMetadataDelta(deps, { baseSnapshotId, targetSnapshotId, startingOffset, maxResults, secrets: {} }, send, ctx()));

  beforeEach(async () => {
    now = 1_000_000;
    cloud = new MemoryCloud({ now: () => now, delays: { snapshot: 500 } });
    blocks = new MemorySnapshotBlocks();
    deps = { snapshots: cloud.snapshots, blocks };
    volumeId = (await cloud.volumes.create({ zone: 'us-east-1a', sizeGiB: 2, type: 'gp3', tags: {} })).id;
    otherVolumeId = (await cloud.volumes.create({ zone: 'us-east-1a', sizeGiB: 2, type: 'gp3', tags: {} })).id;
    now += 1000;
    a = await snapshot(volumeId, { 0: 'x', 3: 'y', 4095: 'z' });
    b = await snapshot(volumeId, { 0: 'x', 3: 'changed', 9: 'new', 4095: 'z' });
    other = await snapshot(otherVolumeId, { 3: 'y' });
  });

  it('GetMetadataAllocated names the written blocks at 512 KiB, FIXED_LENGTH, with the volume capacity', async () => {
    const { messages, error } = await allocated(a);
    expect(error).toBeUndefined();
    expect(messages).toEqual([
      {
        blockMetadataType: BlockMetadataType.FIXED_LENGTH,
        volumeCapacityBytes: 2 * GiB,
        blockMetadata: [
          { byteOffset: 0, sizeBytes: B },
          { byteOffset: 3 * B, sizeBytes: B },
          { byteOffset: 4095 * B, sizeBytes: B },
        ],
      },
    ]);
  });

  it('GetMetadataDelta names exactly the blocks that differ between the two snapshots', async () => {
    const { messages, error } = await delta(a, b);
    expect(error).toBeUndefined();
    expect(offsets(messages)).toEqual([3 * B, 9 * B]);
    expect(messages.every((m) => m.volumeCapacityBytes === 2 * GiB && m.blockMetadataType === BlockMetadataType.FIXED_LENGTH)).toBe(true);
  });

  it('sends max_results entries a message (the last fewer) across EBS pages, strictly ascending', async () => {
    const many = await snapshot(volumeId, Object.fromEntries(Array.from({ length: 250 }, (_, i) => [i * 2, `v${i}`])));
    const { messages } = await allocated(many, 0, 7);
    expect(messages.map((m) => m.blockMetadata.length)).toEqual([...Array<number>(35).fill(7), 5]);
    expect(offsets(messages)).toEqual(Array.from({ length: 250 }, (_, i) => i * 2 * B));
    // EBS pages hold at least 100 blocks: the 250 came in 3 pages, regrouped into messages of 7.
    expect(blocks.calls.filter((c) => c === 'ListSnapshotBlocks')).toHaveLength(3);
  });

  it('starts at the block holding starting_offset; at the capacity it sends one empty message; beyond it or negative is OUT_OF_RANGE', async () => {
    expect(offsets((await allocated(a, 3 * B + 1)).messages)).toEqual([3 * B, 4095 * B]);
    expect(offsets((await allocated(a, 4 * B)).messages)).toEqual([4095 * B]);
    expect(offsets((await delta(a, b, 4 * B)).messages)).toEqual([9 * B]);
    expect((await allocated(a, 2 * GiB)).messages).toEqual([
      { blockMetadataType: BlockMetadataType.FIXED_LENGTH, volumeCapacityBytes: 2 * GiB, blockMetadata: [] },
    ]);
    expect((await allocated(a, 2 * GiB + 1)).error).toBe(`OutOfRange: starting_offset ${2 * GiB + 1} is beyond the volume's capacity of ${2 * GiB} bytes`);
    expect((await delta(a, b, -1)).error).toBe('OutOfRange: starting_offset -1 is negative');
  });

  it('with nothing changed sends one message with no blocks and the capacity', async () => {
    const same = await snapshot(volumeId, { 0: 'x', 3: 'changed', 9: 'new', 4095: 'z' });
    expect((await delta(b, same)).messages).toEqual([{ blockMetadataType: BlockMetadataType.FIXED_LENGTH, volumeCapacityBytes: 2 * GiB, blockMetadata: [] }]);
  });

  it('refuses missing ids, a snapshot pair of two volumes, one snapshot twice, a target older than its base and a negative max_results as INVALID_ARGUMENT', async () => {
    expect((await allocated('')).error).toBe('InvalidArgument: snapshot_id is required');
    expect((await delta('', b)).error).toBe('InvalidArgument: base_snapshot_id is required');
    expect((await delta(a, '')).error).toBe('InvalidArgument: target_snapshot_id is required');
    expect((await delta(a, other)).error).toBe(
      `InvalidArgument: base snapshot ${a} is of volume ${volumeId} and target snapshot ${other} of volume ${otherVolumeId}; both must be of one volume`,
    );
    expect((await delta(a, a)).error).toMatch(/^InvalidArgument: base_snapshot_id and target_snapshot_id are both/);
    expect((await delta(b, a)).error).toBe(`InvalidArgument: target snapshot ${a} was taken before base snapshot ${b}; the target must be the later one`);
    expect((await allocated(a, 0, -1)).error).toBe('InvalidArgument: max_results must be 0 or a positive number, not -1');
    expect(blocks.calls).toEqual([]);
  });

  it('a snapshot EC2 reports in error is FAILED_PRECONDITION, asked of nobody else', async () => {
    const get: typeof cloud.snapshots.get = async (ids, signal) =>
      new Map([...(await cloud.snapshots.get(ids, signal))].map(([id, s]) => [id, id === b ? { ...s, state: 'error' } : s]));
    deps = { snapshots: { ...cloud.snapshots, get }, blocks };
    expect((await delta(a, b)).error).toBe(`FailedPrecondition: snapshot ${b} (target_snapshot_id) is error; its blocks cannot be read`);
    expect(blocks.calls).toEqual([]);
  });

  it('answers NOT_FOUND naming the unknown or misshapen snapshot and its field', async () => {
    expect((await allocated('snap-0123456789abcdef0')).error).toBe('NotFound: snapshot snap-0123456789abcdef0 (snapshot_id) not found');
    expect((await delta(a, 'snap-0123456789abcdef0')).error).toBe('NotFound: snapshot snap-0123456789abcdef0 (target_snapshot_id) not found');
    expect((await delta('vol-1', b)).error).toBe('NotFound: snapshot vol-1 (base_snapshot_id) not found (not an EBS snapshot id)');
  });

  it('a snapshot EBS has not finished is UNAVAILABLE until it is; one EBS does not know is NOT_FOUND', async () => {
    const s = await cloud.snapshots.create({ volumeId, tags: {} });
    blocks.record(s.id, { volumeId, sizeGiB: 2, blocks: new Map([[1, 'p']]) });
    expect((await delta(b, s.id)).error).toBe(`Unavailable: snapshot ${s.id} (target_snapshot_id) is not ready yet (pending, 0%); retry once it is ready`);
    now += 1000;
    expect(offsets((await delta(b, s.id)).messages)).toEqual([0, B, 3 * B, 9 * B, 4095 * B]);
    const unknownToEbs = await cloud.snapshots.create({ volumeId, tags: {} });
    now += 1000;
    expect((await allocated(unknownToEbs.id)).error).toMatch(
      new RegExp(`^NotFound: snapshot ${unknownToEbs.id} not found \\(ListSnapshotBlocks: ResourceNotFoundException SNAPSHOT_NOT_FOUND\\)`),
    );
  });
});
