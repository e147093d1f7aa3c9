import { DescribeInstancesCommand, DescribeInstanceTypesCommand, type _InstanceType } from '@aws-sdk/client-ec2';
import { createLogger } from '@plinth/logger';
import { listNodes } from '@plinth/nodes';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Of } from '../../../test/support/ec2.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';
import { createFakeHost, detachAll, type FakeHost } from '../../../test/support/nvme.js';
import { resolveIdentity } from './agent.js';
import { loadConfig } from './config.js';
import { computeAttachLimit } from './limits.js';
import { startTestAgent } from '../../../test/support/node-agent.js';

/** The paths that need the stack: attach limits from (emulated) EC2, and the Redis registration. */
describe('node agent against the stack (EC2 emulator + Redis)', () => {
  let stack: Stack;
  let host: FakeHost;
  let redis: Redis;
  beforeAll(async () => {
    stack = requireStack();
    host = await createFakeHost();
    redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: 2 });
  });
  afterAll(async () => {
    await redis?.quit();
    await host?.cleanup();
    await detachAll();
  });

  it('NodeGetInfo identity: the seeded instance, its zone, and a limit computed live from DescribeInstances + DescribeInstanceTypes', async () => {
    const lines: string[] = [];
    const log = createLogger({ name: 't', level: 'info', destination: { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream });
    const cfg = loadConfig({
      METADATA_SOURCES: 'env',
      NODE_ID: stack.nodeId,
      NODE_ZONE: stack.zone,
      EC2_ENDPOINT: stack.ec2Endpoint,
      AWS_REGION: stack.region,
    });
    const id = await resolveIdentity(cfg, log);
    expect(id).toMatchObject({ nodeId: stack.nodeId, zone: stack.zone, instanceType: stack.instanceType });

    // The same inputs, read independently, give the same number through the pure function.
    const ec2 = ec2Of(stack);
    const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [stack.nodeId] }))).Reservations?.[0]?.Instances?.[0];
    const type = (await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [stack.instanceType as _InstanceType] }))).InstanceTypes?.[0];
    ec2.destroy();
    const store = type?.InstanceStorageInfo;
    const limit = computeAttachLimit({
      instance: {
        id: stack.nodeId,
        type: stack.instanceType,
        zone: stack.zone,
        state: 'running',
        rootDevice: inst?.RootDeviceName,
        blockDevices: (inst?.BlockDeviceMappings ?? []).map((m) => ({
          device: m.DeviceName ?? '',
          volumeId: m.Ebs?.VolumeId,
          deleteOnTermination: m.Ebs?.DeleteOnTermination ?? false,
        })),
        networkInterfaceCount: inst?.NetworkInterfaces?.length ?? 1,
      },
      instanceType: {
        name: stack.instanceType,
        hypervisor: type?.Hypervisor,
        maxEbsAttachments: type?.EbsInfo?.MaximumEbsAttachments,
        attachmentLimitType: type?.EbsInfo?.AttachmentLimitType,
        nvmeInstanceStoreDisks: store?.NvmeSupport && store.NvmeSupport !== 'unsupported' ? (store.Disks ?? []).reduce((n, d) => n + (d.Count ?? 0), 0) : 0,
      },
    }).limit;
    expect(id.maxVolumesPerNode).toBe(limit);
    expect(id.maxVolumesPerNode).toBeGreaterThanOrEqual(1);
    expect(lines.join('')).toMatch(/attach limit: .*EBS attachment limit|attach limit: .*no EBS attachment limit/);
  });

  it('registers the node in Redis with its attach limit and keeps a heartbeat', async () => {
    const nodeId = `i-0reg${Date.now().toString(16)}`;
    const t = await startTestAgent(
      host,
      { REDIS_URL: stack.redisUrl, HEARTBEAT_INTERVAL_MS: '200' },
      { nodeId, zone: 'us-east-1b', instanceType: 'm5.xlarge', maxVolumesPerNode: 24 },
    );
    try {
      const first = (await listNodes(redis)).find((n) => n.instanceId === nodeId);
      expect(first).toMatchObject({ instanceId: nodeId, zone: 'us-east-1b', instanceType: 'm5.xlarge', attachLimit: 24, driverName: 'ebs.csi.plinth.dev' });
      await new Promise((r) => setTimeout(r, 700));
      const later = (await listNodes(redis)).find((n) => n.instanceId === nodeId);
      expect(later!.heartbeatAt).toBeGreaterThan(first!.heartbeatAt);
    } finally {
      await t.close();
      await redis.del(`plinth:node:${nodeId}`);
      await redis.zrem('plinth:nodes', nodeId);
    }
  });
});
