import { status, type ServiceError } from '@grpc/grpc-js';
import { callUnary, ControllerServiceCapability_RPC_Type as Rpc, VolumeCapability_AccessMode_Mode as Mode, type VolumeCapability } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type ControllerProcess } from '../../../test/support/controller.js';
import { ec2Of, freshRedis, uniqueCluster, volumeById } from '../../../test/support/ec2.js';
import { GiB, mountCap } from '../../../test/support/csi.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

const blockCap: VolumeCapability = { accessMode: { mode: Mode.SINGLE_NODE_WRITER }, block: {} };

async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    return (e as ServiceError).code;
  }
  throw new Error('expected the call to fail');
}

let stack: Stack;
let ctl: ControllerProcess;

beforeAll(async () => {
  stack = requireStack();
  ctl = await startController({
    REDIS_URL: await freshRedis(stack.redisUrl, 11),
    AWS_REGION: stack.region,
    EC2_ENDPOINT: stack.ec2Endpoint,
    PLINTH_CLUSTER_ID: uniqueCluster('expand'),
    DEFAULT_ZONE: stack.zone,
    EC2_POLL_INTERVAL_MS: '100',
  });
});

afterAll(async () => {
  await ctl?.stop();
});

describe('ControllerExpandVolume', () => {
  it('is advertised, grows the EBS volume (idempotently) and says whether the node must grow the filesystem', async () => {
    const caps = await callUnary(ctl.controller, 'controllerGetCapabilities', {});
    expect(caps.capabilities.map((c) => c.rpc?.type)).toContain(Rpc.EXPAND_VOLUME);

    const created = await callUnary(ctl.controller, 'createVolume', {
      name: `expand-${Date.now()}`,
      capacityRange: { requiredBytes: GiB, limitBytes: 0 },
      volumeCapabilities: [mountCap],
      parameters: { type: 'gp3' },
      secrets: {},
      volumeContentSource: undefined,
      accessibilityRequirements: undefined,
      mutableParameters: {},
    });
    const volumeId = created.volume!.volumeId;
    try {
      const req = { volumeId, capacityRange: { requiredBytes: 2 * GiB + 1, limitBytes: 0 }, secrets: {}, volumeCapability: mountCap };
      const grown = await callUnary(ctl.controller, 'controllerExpandVolume', req);
      expect(grown).toEqual({ capacityBytes: 3 * GiB, nodeExpansionRequired: true });
      expect((await volumeById(ec2Of(stack), volumeId))?.Size).toBe(3);
      // Again, and for a smaller size: nothing to do, the volume keeps its size.
      expect(await callUnary(ctl.controller, 'controllerExpandVolume', req)).toEqual({ capacityBytes: 3 * GiB, nodeExpansionRequired: true });
      const block = await callUnary(ctl.controller, 'controllerExpandVolume', {
        ...req,
        capacityRange: { requiredBytes: 2 * GiB, limitBytes: 0 },
        volumeCapability: blockCap,
      });
      expect(block).toEqual({ capacityBytes: 3 * GiB, nodeExpansionRequired: false });
      expect(await codeOf(callUnary(ctl.controller, 'controllerExpandVolume', { ...req, capacityRange: { requiredBytes: 70000 * GiB, limitBytes: 0 } }))).toBe(
        status.OUT_OF_RANGE,
      );
      // Shrinking (a limit below the size) is impossible on EBS.
      expect(await codeOf(callUnary(ctl.controller, 'controllerExpandVolume', { ...req, capacityRange: { requiredBytes: 0, limitBytes: 2 * GiB } }))).toBe(
        status.OUT_OF_RANGE,
      );
      expect((await volumeById(ec2Of(stack), volumeId))?.Size).toBe(3);
    } finally {
      await callUnary(ctl.controller, 'deleteVolume', { volumeId, secrets: {} });
    }
  });

  it('rejects a missing volume id or capacity range and reports an unknown volume as NOT_FOUND', async () => {
    const range = { requiredBytes: 2 * GiB, limitBytes: 0 };
    expect(
      await codeOf(callUnary(ctl.controller, 'controllerExpandVolume', { volumeId: '', capacityRange: range, secrets: {}, volumeCapability: undefined })),
    ).toBe(status.INVALID_ARGUMENT);
    expect(
      await codeOf(
        callUnary(ctl.controller, 'controllerExpandVolume', {
          volumeId: 'vol-0123456789abcdef0',
          capacityRange: undefined,
          secrets: {},
          volumeCapability: undefined,
        }),
      ),
    ).toBe(status.INVALID_ARGUMENT);
    expect(
      await codeOf(
        callUnary(ctl.controller, 'controllerExpandVolume', {
          volumeId: 'vol-0123456789abcdef0',
          capacityRange: range,
          secrets: {},
          volumeCapability: undefined,
        }),
      ),
    ).toBe(status.NOT_FOUND);
    expect(
      await codeOf(
        callUnary(ctl.controller, 'controllerExpandVolume', { volumeId: 'not-a-volume', capacityRange: range, secrets: {}, volumeCapability: undefined }),
      ),
    ).toBe(status.NOT_FOUND);
  });
});
