import { callUnary, VolumeCapability_AccessMode_Mode as Mode, type CreateVolumeRequest, type VolumeCapability } from '@plinth/csi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { ec2Of, freshRedis, runInstance, uniqueCluster, volumeById, volumesNamed } from '../../../test/support/ec2.js';
import { startFaultProxy, type FaultProxy } from '../../../test/fault-proxy/proxy.js';
import { AWS_LIKE_DELAYS } from '../../../test/fault-proxy/transitions.js';
import { GiB } from '../../../test/support/csi.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

const cap: VolumeCapability = { accessMode: { mode: Mode.SINGLE_NODE_WRITER }, mount: { fsType: 'ext4', mountFlags: [], volumeMountGroup: '' } };
const createReq = (name: string): CreateVolumeRequest => ({
  name,
  capacityRange: { requiredBytes: GiB, limitBytes: 0 },
  volumeCapabilities: [cap],
  parameters: {},
  secrets: {},
  volumeContentSource: undefined,
  accessibilityRequirements: undefined,
  mutableParameters: {},
});

let stack: Stack;
let proxy: FaultProxy;
let redisUrl: string;
const running: ControllerProcess[] = [];

async function controller(cluster: string, extra: Record<string, string> = {}): Promise<ControllerProcess> {
  const c = await startController({
    ...testControllerEnv({ redisUrl, region: stack.region, zone: stack.zone, ec2Endpoint: proxy.endpoint, cluster }),
    QUEUE_LOCK_MS: '3000',
    ...extra,
  });
  running.push(c);
  return c;
}

beforeAll(async () => {
  stack = requireStack();
  // EC2-like state delays: creating, attaching and detaching take time, as on real EC2.
  proxy = await startFaultProxy(stack.ec2Endpoint, { transitions: AWS_LIKE_DELAYS });
  redisUrl = await freshRedis(stack.redisUrl, 2);
});

afterEach(async () => {
  proxy.configure({ delayResponse: {} });
  proxy.onForward = undefined;
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  await proxy?.close();
});

describe('durable operations', () => {
  it('turns 20 identical concurrent CreateVolume calls into exactly one volume', async () => {
    const cluster = uniqueCluster('burst');
    const ctl = await controller(cluster);
    proxy.reset();
    const name = `pvc-${cluster}`;
    const results = await Promise.all(Array.from({ length: 20 }, () => callUnary(ctl.controller, 'createVolume', createReq(name), { timeoutMs: 60_000 })));
    const ids = new Set(results.map((r) => r.volume!.volumeId));
    expect(ids.size).toBe(1);
    const inCloud = await volumesNamed(ec2Of(stack), name);
    expect(inCloud.map((v) => v.VolumeId)).toEqual([...ids]);
    expect(proxy.calls.get('CreateVolume')).toBe(1);
  });

  it('survives kill -9 while CreateVolume is in flight: the retry returns the one volume, none leaks', async () => {
    const cluster = uniqueCluster('crash');
    const name = `pvc-${cluster}`;
    const first = await controller(cluster);
    // EC2 creates the volume, but its answer is held back: the controller dies without ever hearing it.
    proxy.configure({ delayResponse: { CreateVolume: 30_000 } });
    const forwarded = new Promise<void>((resolve) => {
      proxy.onForward = (action) => action === 'CreateVolume' && resolve();
    });
    const inFlight = callUnary(first.controller, 'createVolume', createReq(name), { timeoutMs: 60_000 }).catch((e: unknown) => e);
    await forwarded;
    await first.kill();
    expect(await inFlight).toBeInstanceOf(Error);
    expect(await volumesNamed(ec2Of(stack), name)).toHaveLength(1);
    proxy.configure({ delayResponse: {} });

    const second = await controller(cluster);
    // What external-provisioner does after a failed call: the same request again.
    const retried = await callUnary(second.controller, 'createVolume', createReq(name), { timeoutMs: 60_000 });
    const inCloud = await volumesNamed(ec2Of(stack), name);
    expect(inCloud).toHaveLength(1);
    expect(retried.volume!.volumeId).toBe(inCloud[0]!.VolumeId);
    expect(second.output()).not.toContain('"msg":"volume created"');
  });

  it('lets two controller replicas on one Redis serve one volume without a double attach', async () => {
    const cluster = uniqueCluster('replicas');
    const [a, b] = [await controller(cluster), await controller(cluster)];
    const vol = await callUnary(a.controller, 'createVolume', createReq(`pvc-${cluster}`), { timeoutMs: 60_000 });
    const volumeId = vol.volume!.volumeId;
    const second = await runInstance(ec2Of(stack), stack.zone);
    proxy.reset();
    // Both replicas race to publish to this node, and one of them also to another node.
    const publish = (c: ControllerProcess, nodeId: string) =>
      callUnary(
        c.controller,
        'controllerPublishVolume',
        { volumeId, nodeId, volumeCapability: cap, readonly: false, secrets: {}, volumeContext: {} },
        { timeoutMs: 60_000 },
      ).then(
        (r) => ({ ok: true as const, nodeId, device: r.publishContext.devicePath }),
        (e: { code: number }) => ({ ok: false as const, nodeId, code: e.code }),
      );
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => publish(a, stack.nodeId)),
      ...Array.from({ length: 5 }, () => publish(b, stack.nodeId)),
      publish(b, second),
    ]);
    const attachments = (await volumeById(ec2Of(stack), volumeId))?.Attachments ?? [];
    expect(attachments).toHaveLength(1);
    const winner = attachments[0]!.InstanceId;
    const ok = results.filter((r) => r.ok);
    expect(new Set(ok.map((r) => r.nodeId))).toEqual(new Set([winner]));
    expect(new Set(ok.map((r) => (r.ok ? r.device : '')))).toEqual(new Set([attachments[0]!.Device]));
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === 9 /* FAILED_PRECONDITION */)).toBe(true);
    expect(proxy.calls.get('AttachVolume')).toBe(1);
  });
});
