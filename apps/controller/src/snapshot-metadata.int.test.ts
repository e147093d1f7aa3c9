import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import {
  BlockMetadataType,
  callUnary,
  PluginCapability_Service_Type as Service,
  SnapshotMetadataClient,
  type GetMetadataAllocatedResponse,
  type GetMetadataDeltaResponse,
} from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EBS_BLOCK, startNitroTestbed, type NitroTestbed } from '../../../test/nitro/testbed.js';
import { deleteClusterSnapshots, deleteClusterVolumes } from '../../../test/sanity/volumes.js';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { freshRedis, uniqueCluster } from '../../../test/support/ec2.js';
import { createReq, GiB } from '../../../test/support/csi.js';
import { requireStack } from '../../../test/support/stack.js';

type Response = GetMetadataAllocatedResponse | GetMetadataDeltaResponse;

/** Reads a whole stream: its messages, and the error that ended it if any. */
function read(stream: NodeJS.ReadableStream): Promise<{ messages: Response[]; error?: ServiceError }> {
  return new Promise((resolve) => {
    const messages: Response[] = [];
    stream.on('data', (m: Response) => messages.push(m));
    stream.on('error', (error: ServiceError) => resolve({ messages, error }));
    stream.on('end', () => resolve({ messages }));
  });
}
const blocksOf = (messages: Response[]): number[][] => messages.map((m) => m.blockMetadata.map((b) => b.byteOffset / EBS_BLOCK));

let bed: NitroTestbed;
let ctl: ControllerProcess;
let cluster: string;
let client: SnapshotMetadataClient;

beforeAll(async () => {
  const stack = requireStack();
  bed = await startNitroTestbed(stack);
  cluster = uniqueCluster('cbt');
  ctl = await startController({
    ...testControllerEnv({ redisUrl: await freshRedis(stack.redisUrl, 9), region: stack.region, zone: stack.zone, ec2Endpoint: stack.ec2Endpoint, cluster }),
    EBS_ENDPOINT: bed.ebs.endpoint,
  });
  client = new SnapshotMetadataClient(ctl.endpoint, credentials.createInsecure());
}, 120_000);

afterAll(async () => {
  client?.close();
  await ctl?.stop();
  await bed?.close();
  await deleteClusterSnapshots(bed.ec2, cluster).catch(() => undefined);
  await deleteClusterVolumes(bed.ec2, cluster).catch(() => undefined);
}, 120_000);

describe('SnapshotMetadata through the controller socket (volume on the emulated Nitro host, EBS direct APIs from its bytes)', () => {
  let volumeId: string;
  let a: string;
  let b: string;

  const snapshot = async (name: string): Promise<string> => {
    const res = await callUnary(ctl.controller, 'createSnapshot', {
      name: `${name}-${cluster}`,
      sourceVolumeId: volumeId,
      parameters: {},
      secrets: {},
      accessibilityRequirements: undefined,
    });
    const id = res.snapshot!.snapshotId;
    await bed.captured(id);
    return id;
  };
  const allocated = (snapshotId: string, startingOffset = 0, maxResults = 0) =>
    read(client.getMetadataAllocated({ snapshotId, startingOffset, maxResults, secrets: {} }));
  const delta = (baseSnapshotId: string, targetSnapshotId: string, startingOffset = 0, maxResults = 0) =>
    read(client.getMetadataDelta({ baseSnapshotId, targetSnapshotId, startingOffset, maxResults, secrets: {} }));

  beforeAll(async () => {
    volumeId = (await callUnary(ctl.controller, 'createVolume', createReq(`cbt-${cluster}`))).volume!.volumeId;
    await bed.attach(volumeId);
    await bed.writeBlocks(
      volumeId,
      new Map([
        [0, 'first'],
        [2, 'second'],
        [100, 'third'],
      ]),
    );
    a = await snapshot('a');
    await bed.writeBlocks(
      volumeId,
      new Map([
        [2, 'rewritten'],
        [5, 'new five'],
        [1000, 'new thousand'],
        [2047, 'last block'],
      ]),
    );
    b = await snapshot('b');
  }, 120_000);

  it('the controller advertises the SnapshotMetadata service', async () => {
    const caps = await callUnary(ctl.identity, 'getPluginCapabilities', {});
    expect(caps.capabilities.map((c) => c.service?.type)).toContain(Service.SNAPSHOT_METADATA_SERVICE);
  });

  it('GetMetadataDelta(A, B) streams exactly the blocks written between them, 512 KiB each, FIXED_LENGTH, with the capacity', async () => {
    const { messages, error } = await delta(a, b);
    expect(error).toBeUndefined();
    expect(messages.flatMap((m) => m.blockMetadata)).toEqual([2, 5, 1000, 2047].map((i) => ({ byteOffset: i * EBS_BLOCK, sizeBytes: EBS_BLOCK })));
    for (const m of messages) expect(m).toMatchObject({ blockMetadataType: BlockMetadataType.FIXED_LENGTH, volumeCapacityBytes: GiB });
  });

  it('GetMetadataAllocated names the written blocks of each snapshot', async () => {
    expect(blocksOf((await allocated(a)).messages).flat()).toEqual([0, 2, 100]);
    expect(blocksOf((await allocated(b)).messages).flat()).toEqual([0, 2, 5, 100, 1000, 2047]);
  });

  it('honours starting_offset and max_results', async () => {
    expect(blocksOf((await delta(a, b, 5 * EBS_BLOCK + 10, 1)).messages)).toEqual([[5], [1000], [2047]]);
    expect(blocksOf((await allocated(b, 0, 4)).messages)).toEqual([
      [0, 2, 5, 100],
      [1000, 2047],
    ]);
  });

  it('answers concurrent calls as it answers them one at a time', async () => {
    const all = await Promise.all([delta(a, b), allocated(a), delta(a, b, 0, 1), allocated(b, 0, 2), delta(a, b)]);
    expect(all.map((r) => blocksOf(r.messages).flat())).toEqual([
      [2, 5, 1000, 2047],
      [0, 2, 100],
      [2, 5, 1000, 2047],
      [0, 2, 5, 100, 1000, 2047],
      [2, 5, 1000, 2047],
    ]);
  });

  it('answers the spec codes with messages naming the field or snapshot', async () => {
    const unknown = 'snap-0123456789abcdef0';
    expect((await delta(a, unknown)).error).toMatchObject({ code: status.NOT_FOUND, details: `snapshot ${unknown} (target_snapshot_id) not found` });
    expect((await allocated('')).error).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'snapshot_id is required' });
    expect((await delta(b, a)).error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect((await allocated(a, GiB + 1)).error).toMatchObject({
      code: status.OUT_OF_RANGE,
      details: `starting_offset ${GiB + 1} is beyond the volume's capacity of ${GiB} bytes`,
    });
    const other = await bed.attachedVolume(1);
    await bed.writeBlocks(other, new Map([[2, 'other']]));
    const otherSnap = await bed.snapshot(other);
    expect((await delta(a, otherSnap)).error).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: `base snapshot ${a} is of volume ${volumeId} and target snapshot ${otherSnap} of volume ${other}; both must be of one volume`,
    });
  }, 60_000);
});
