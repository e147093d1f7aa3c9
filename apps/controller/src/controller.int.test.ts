import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { status } from '@grpc/grpc-js';
import { callUnary } from '@plinth/csi';
import { registerNode } from '@plinth/nodes';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { ec2Of, freshRedis, runInstance, uniqueCluster, volumeById, volumesNamed } from '../../../test/support/ec2.js';
import { startFaultProxy, type FaultProxy } from '../../../test/fault-proxy/proxy.js';
import { AWS_LIKE_DELAYS } from '../../../test/fault-proxy/transitions.js';
import { codeOf, createReq, GiB, mountCap } from '../../../test/support/csi.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';
import { deviceNames } from './devices.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

let stack: Stack;
let proxy: FaultProxy;
let ctl: ControllerProcess;
let cluster: string;
let env: Record<string, string>;
const ec2 = () => ec2Of(stack);

beforeAll(async () => {
  stack = requireStack();
  // EC2-like state delays: creating, attaching and detaching take time, as on real EC2.
  proxy = await startFaultProxy(stack.ec2Endpoint, { transitions: AWS_LIKE_DELAYS });
  cluster = uniqueCluster('lifecycle');
  env = {
    ...testControllerEnv({ redisUrl: await freshRedis(stack.redisUrl, 1), region: stack.region, zone: stack.zone, ec2Endpoint: proxy.endpoint, cluster }),
    LOG_LEVEL: 'debug',
    METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
  };
  ctl = await startController(env);
});

afterAll(async () => {
  await ctl?.stop();
  await proxy?.close();
});

describe('controller over its real socket, against LocalStack', () => {
  it('serves identity on a socket only its owner can open', async () => {
    const info = await callUnary(ctl.identity, 'getPluginInfo', {});
    expect(info.name).toBe('ebs.csi.plinth.dev');
    expect(info.vendorVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect((await callUnary(ctl.identity, 'probe', {})).ready).toBe(true);
    expect(statSync(ctl.endpoint.slice('unix://'.length)).mode & 0o777).toBe(0o600);
  });

  it('creates, attaches, detaches and deletes a volume, idempotently at each step', async () => {
    const name = `pvc-${cluster}`;
    const created = await callUnary(
      ctl.controller,
      'createVolume',
      createReq(name, {
        capacityRange: { requiredBytes: 9 * GiB + 1, limitBytes: 0 },
        parameters: {
          type: 'gp3',
          iops: '4000',
          throughput: '250',
          tagSpecification_1: 'team=storage',
          'csi.storage.k8s.io/pvc/name': 'data',
          'csi.storage.k8s.io/pvc/namespace': 'db',
          'csi.storage.k8s.io/pv/name': 'pv-data',
        },
        secrets: { password: 'hunter2-do-not-log' },
        accessibilityRequirements: { requisite: [{ segments: { 'topology.kubernetes.io/zone': stack.zone } }], preferred: [] },
      }),
      { timeoutMs: 60_000 },
    );
    const volumeId = created.volume!.volumeId;
    expect(created.volume!.capacityBytes).toBe(10 * GiB);
    expect(created.volume!.accessibleTopology[0]!.segments['topology.kubernetes.io/zone']).toBe(stack.zone);

    const inCloud = await volumeById(ec2(), volumeId);
    expect(inCloud).toMatchObject({ Size: 10, VolumeType: 'gp3', Iops: 4000, AvailabilityZone: stack.zone });
    const tags: Record<string, string | undefined> = Object.fromEntries((inCloud?.Tags ?? []).map((t) => [t.Key ?? '', t.Value]));
    expect(tags).toMatchObject({
      CSIVolumeName: name,
      'plinth.dev/cluster-id': cluster,
      team: 'storage',
      'kubernetes.io/created-for/pvc/name': 'data',
      'kubernetes.io/created-for/pvc/namespace': 'db',
      'kubernetes.io/created-for/pv/name': 'pv-data',
    });

    const again = await callUnary(
      ctl.controller,
      'createVolume',
      createReq(name, { capacityRange: { requiredBytes: 10 * GiB, limitBytes: 0 }, parameters: { iops: '4000', throughput: '250' } }),
    );
    expect(again.volume!.volumeId).toBe(volumeId);
    expect(await volumesNamed(ec2(), name)).toHaveLength(1);

    const pub = { volumeId, nodeId: stack.nodeId, volumeCapability: mountCap, readonly: false, secrets: {}, volumeContext: {} };
    const published = await callUnary(ctl.controller, 'controllerPublishVolume', pub, { timeoutMs: 60_000 });
    const device = published.publishContext.devicePath;
    expect(device).toMatch(/^\/dev\/xvd[a-z]{2}$/);
    const attached = await volumeById(ec2(), volumeId);
    expect(attached?.Attachments).toEqual([expect.objectContaining({ InstanceId: stack.nodeId, State: 'attached' })]);
    expect((await callUnary(ctl.controller, 'controllerPublishVolume', pub)).publishContext.devicePath).toBe(device);

    const attachCalls = proxy.calls.get('AttachVolume');
    expect(attachCalls).toBe(1);

    const deleteWhileAttached = await codeOf(callUnary(ctl.controller, 'deleteVolume', { volumeId, secrets: {} }));
    expect(deleteWhileAttached.code).toBe(status.FAILED_PRECONDITION);
    expect(deleteWhileAttached.details).toContain(volumeId);

    const unpub = { volumeId, nodeId: stack.nodeId, secrets: {} };
    await callUnary(ctl.controller, 'controllerUnpublishVolume', unpub, { timeoutMs: 60_000 });
    expect((await volumeById(ec2(), volumeId))?.Attachments ?? []).toEqual([]);
    await callUnary(ctl.controller, 'controllerUnpublishVolume', unpub);

    await callUnary(ctl.controller, 'deleteVolume', { volumeId, secrets: {} });
    expect(await volumeById(ec2(), volumeId)).toBeUndefined();
    await callUnary(ctl.controller, 'deleteVolume', { volumeId, secrets: {} });

    // What an operator scrapes: RPC latency by code, EC2 calls by action and outcome, pending attach/detach, overhead.
    const metrics = await (await fetch(`http://${env.METRICS_ADDRESS}/metrics`)).text();
    expect(metrics).toMatch(/plinth_csi_rpc_duration_seconds_count\{method="CreateVolume",code="OK"\} [1-9]/);
    expect(metrics).toMatch(/plinth_csi_rpc_duration_seconds_count\{method="DeleteVolume",code="FAILED_PRECONDITION"\} 1/);
    expect(metrics).toMatch(/plinth_ec2_api_requests_total\{action="AttachVolume",outcome="ok"\} 1/);
    expect(metrics).toMatch(/plinth_pending_attach_duration_seconds_count 1/);
    expect(metrics).toMatch(/plinth_pending_detach_duration_seconds_count 1/);
    expect(metrics).toMatch(/plinth_operation_overhead_seconds_count\{operation="create"\} [1-9]/);
    expect(metrics).toMatch(/plinth_queue_jobs\{state="completed"\} [1-9]/);

    // The CSI secrets of the CreateVolume call never reach the log, even at debug level.
    expect(ctl.output()).toContain('rpc start');
    expect(ctl.output()).not.toContain('hunter2-do-not-log');
  });

  it('answers bad input with the right code and a message naming the field or resource', async () => {
    const c = ctl.controller;
    const cases: [() => Promise<unknown>, number, string][] = [
      [() => callUnary(c, 'createVolume', createReq('')), status.INVALID_ARGUMENT, 'name'],
      [() => callUnary(c, 'createVolume', createReq('x', { parameters: { fancy: '1' } })), status.INVALID_ARGUMENT, 'fancy'],
      [() => callUnary(c, 'createVolume', createReq('x', { volumeCapabilities: [] })), status.INVALID_ARGUMENT, 'volume_capabilities'],
      [
        () => callUnary(c, 'createVolume', createReq('x', { capacityRange: { requiredBytes: GiB + 1, limitBytes: GiB + 2 } })),
        status.OUT_OF_RANGE,
        'capacity_range',
      ],
      [
        () =>
          callUnary(c, 'controllerPublishVolume', {
            volumeId: 'vol-0123456789abcdef0',
            nodeId: stack.nodeId,
            volumeCapability: mountCap,
            readonly: false,
            secrets: {},
            volumeContext: {},
          }),
        status.NOT_FOUND,
        'vol-0123456789abcdef0',
      ],
      [
        () =>
          callUnary(c, 'controllerPublishVolume', {
            volumeId: '',
            nodeId: stack.nodeId,
            volumeCapability: mountCap,
            readonly: false,
            secrets: {},
            volumeContext: {},
          }),
        status.INVALID_ARGUMENT,
        'volume_id',
      ],
      [
        () =>
          callUnary(c, 'validateVolumeCapabilities', {
            volumeId: 'vol-0123456789abcdef0',
            volumeCapabilities: [mountCap],
            volumeContext: {},
            parameters: {},
            secrets: {},
            mutableParameters: {},
          }),
        status.NOT_FOUND,
        'vol-0123456789abcdef0',
      ],
      [() => callUnary(c, 'deleteVolume', { volumeId: '', secrets: {} }), status.INVALID_ARGUMENT, 'volume_id'],
    ];
    for (const [call, code, text] of cases) {
      const got = await codeOf(call());
      expect({ code: got.code, named: got.details.includes(text) }).toEqual({ code, named: true });
      expect(got.details).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses a second CreateVolume of the same name with incompatible arguments', async () => {
    const name = `pvc-${cluster}-dup`;
    await callUnary(ctl.controller, 'createVolume', createReq(name), { timeoutMs: 60_000 });
    const got = await codeOf(callUnary(ctl.controller, 'createVolume', createReq(name, { capacityRange: { requiredBytes: 2 * GiB, limitBytes: 0 } })));
    expect(got.code).toBe(status.ALREADY_EXISTS);
    expect(got.details).toContain(name);
    const other = await codeOf(callUnary(ctl.controller, 'createVolume', createReq(name, { parameters: { type: 'gp2' } })));
    expect(other.code).toBe(status.ALREADY_EXISTS);
    expect(await volumesNamed(ec2(), name)).toHaveLength(1);
  });

  it('publishes to an unknown node as NOT_FOUND, to a second node as FAILED_PRECONDITION, across zones as FAILED_PRECONDITION', async () => {
    const vol = await callUnary(ctl.controller, 'createVolume', createReq(`pvc-${cluster}-nodes`), { timeoutMs: 60_000 });
    const volumeId = vol.volume!.volumeId;
    const pub = (nodeId: string) =>
      callUnary(
        ctl.controller,
        'controllerPublishVolume',
        { volumeId, nodeId, volumeCapability: mountCap, readonly: false, secrets: {}, volumeContext: {} },
        { timeoutMs: 60_000 },
      );

    const unknown = await codeOf(pub('i-0123456789abcdef0'));
    expect(unknown.code).toBe(status.NOT_FOUND);
    expect(unknown.details).toContain('i-0123456789abcdef0');

    const second = await runInstance(ec2(), stack.zone);
    await pub(stack.nodeId);
    const busy = await codeOf(pub(second));
    expect(busy.code).toBe(status.FAILED_PRECONDITION);
    expect(busy.details).toContain(stack.nodeId);
    await callUnary(ctl.controller, 'controllerUnpublishVolume', { volumeId, nodeId: stack.nodeId, secrets: {} }, { timeoutMs: 60_000 });

    const otherZone = stack.zone.endsWith('a') ? stack.zone.replace(/a$/, 'b') : stack.zone.replace(/.$/, 'a');
    const far = await runInstance(ec2(), otherZone);
    const cross = await codeOf(pub(far));
    expect(cross.code).toBe(status.FAILED_PRECONDITION);
    expect(cross.details).toContain(otherZone);

    // A node gone or never attached is already "unpublished".
    await callUnary(ctl.controller, 'controllerUnpublishVolume', { volumeId, nodeId: second, secrets: {} });
    await callUnary(ctl.controller, 'deleteVolume', { volumeId, secrets: {} });
  });

  it('is RESOURCE_EXHAUSTED when a node has no free device name', async () => {
    const node = await runInstance(ec2(), stack.zone);
    const redis = new Redis(env.REDIS_URL!);
    // Every name held by other (in-flight) volumes on this node.
    await redis.hset(`plinth:devices:${node}`, Object.fromEntries(deviceNames().map((n, i) => [n, `vol-${i.toString(16).padStart(17, '0')}|${Date.now()}`])));
    redis.disconnect();
    const vol = await callUnary(ctl.controller, 'createVolume', createReq(`pvc-${cluster}-full`), { timeoutMs: 60_000 });
    const got = await codeOf(
      callUnary(ctl.controller, 'controllerPublishVolume', {
        volumeId: vol.volume!.volumeId,
        nodeId: node,
        volumeCapability: mountCap,
        readonly: false,
        secrets: {},
        volumeContext: {},
      }),
    );
    expect(got.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(got.details).toContain(node);
  });
  it("is RESOURCE_EXHAUSTED past the node's registered attach limit, and frees the slot on unpublish", async () => {
    const node = await runInstance(ec2(), stack.zone);
    const redis = new Redis(env.REDIS_URL!);
    const now = Date.now();
    await registerNode(redis, {
      instanceId: node,
      zone: stack.zone,
      instanceType: 'm5.large',
      attachLimit: 2,
      driverName: 'ebs.csi.plinth.dev',
      startedAt: now,
      heartbeatAt: now,
    });
    redis.disconnect();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await callUnary(ctl.controller, 'createVolume', createReq(`pvc-${cluster}-slot${i}`), { timeoutMs: 60_000 })).volume!.volumeId);
    const pub = (volumeId: string) =>
      callUnary(
        ctl.controller,
        'controllerPublishVolume',
        { volumeId, nodeId: node, volumeCapability: mountCap, readonly: false, secrets: {}, volumeContext: {} },
        { timeoutMs: 60_000 },
      );
    await pub(ids[0]!);
    await pub(ids[1]!);
    const full = await codeOf(pub(ids[2]!));
    expect(full.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(full.details).toContain('2 volume attachment slots');
    expect((await volumeById(ec2(), ids[2]!))?.Attachments ?? []).toEqual([]);
    await callUnary(ctl.controller, 'controllerUnpublishVolume', { volumeId: ids[0]!, nodeId: node, secrets: {} }, { timeoutMs: 60_000 });
    await pub(ids[2]!);
    expect((await volumeById(ec2(), ids[2]!))?.Attachments?.[0]?.InstanceId).toBe(node);
  });
});
