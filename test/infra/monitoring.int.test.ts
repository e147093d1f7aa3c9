/**
 * Every series the alert rules and the dashboard of infra/monitoring select exists: a real controller (child
 * process, against LocalStack through the fault proxy, on the stack's Redis) and a real node agent are driven
 * through what an operator watches (a volume created, attached, detached and deleted; a refused call; EC2
 * throttling and 5xx answers; a job failing and being retried), then their /metrics are scraped and each
 * selector of each expression must match a sample, aws-ebs-csi-driver's metric names included. Series from
 * outside Plinth are listed in EXTERNAL_SERIES.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { status } from '@grpc/grpc-js';
import { callUnary } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../fault-proxy/proxy.js';
import { startController, testControllerEnv, type ControllerProcess } from '../support/controller.js';
import { codeOf, createReq, GiB, mountCap } from '../support/csi.js';
import { freshRedis, uniqueCluster } from '../support/ec2.js';
import { startTestAgent, type TestAgent } from '../support/node-agent.js';
import { installNvmeCli } from '../nitro/nvme-cli.js';
import { createFakeHost, type FakeHost } from '../support/nvme.js';
import { requireStack, type Stack } from '../support/stack.js';
import { EXTERNAL_SERIES, expressions, parseExposition, selectors, unmatched, type Sample } from './monitoring.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const NO_FAULTS = { error5xx: 0, reset: 0, throttle: 0 };

let stack: Stack;
let proxy: FaultProxy;
let ctl: ControllerProcess;
let host: FakeHost;
let agent: TestAgent;
let controllerMetrics = '';
let cluster = '';

beforeAll(async () => {
  stack = requireStack();
  proxy = await startFaultProxy(stack.ec2Endpoint);
  cluster = uniqueCluster('monitoring');
  controllerMetrics = `127.0.0.1:${await freePort()}`;
  ctl = await startController({
    ...testControllerEnv({ redisUrl: await freshRedis(stack.redisUrl, 1), region: stack.region, zone: stack.zone, ec2Endpoint: proxy.endpoint, cluster }),
    METRICS_ADDRESS: controllerMetrics,
    // A short retry budget, so an EC2 call under injected faults gives up within the test.
    EC2_RETRY_BUDGET_MS: '500',
  });
  host = await createFakeHost();
  agent = await startTestAgent(host, { METRICS_ADDRESS: '127.0.0.1:0', KUBE_NODE_NAME: 'node-a', NVME_CLI: await installNvmeCli(host.root, host.sysRoot) });
});

afterAll(async () => {
  proxy?.configure({ faults: NO_FAULTS });
  await agent?.close();
  await host?.cleanup();
  await ctl?.stop();
  await proxy?.close();
});

async function scrape(address: string): Promise<Sample[]> {
  const res = await fetch(`http://${address}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

describe('the series infra/monitoring selects, on a live controller and node agent', () => {
  it('exist, with the label values the rules match on', async () => {
    const c = ctl.controller;
    // A volume's life: pending attach and detach, EC2 calls by action, job runs, RPC codes.
    const created = await callUnary(
      c,
      'createVolume',
      createReq(`pvc-${cluster}-a`, { capacityRange: { requiredBytes: GiB, limitBytes: 0 }, parameters: { type: 'gp3' } }),
      { timeoutMs: 60_000 },
    );
    const volumeId = created.volume!.volumeId;
    await callUnary(
      c,
      'controllerPublishVolume',
      { volumeId, nodeId: stack.nodeId, volumeCapability: mountCap, readonly: false, secrets: {}, volumeContext: {} },
      { timeoutMs: 60_000 },
    );
    await callUnary(c, 'controllerUnpublishVolume', { volumeId, nodeId: stack.nodeId, secrets: {} }, { timeoutMs: 60_000 });
    // EC2 reports the volume impaired: its health answer puts it in plinth_volume_health.
    proxy.configure({ volumeStatus: { [volumeId]: { status: 'impaired', ioEnabled: 'failed' } } });
    const health = await callUnary(c, 'controllerGetVolumeHealth', { volumeId, secrets: {} });
    expect(health.volumeHealth?.healthStatuses.length).toBeGreaterThan(0);
    proxy.configure({ volumeStatus: false });
    await callUnary(c, 'deleteVolume', { volumeId, secrets: {} }, { timeoutMs: 60_000 });
    expect((await codeOf(callUnary(c, 'createVolume', createReq(`pvc-${cluster}-bad`, { parameters: { fancy: '1' } })))).code).toBe(status.INVALID_ARGUMENT);

    // EC2 throttles every call: the read is retried until the budget runs out, each try counted as throttled.
    proxy.configure({ faults: { ...NO_FAULTS, throttle: 1 } });
    const throttled = await codeOf(
      callUnary(
        c,
        'validateVolumeCapabilities',
        { volumeId: 'vol-0123456789abcdef0', volumeCapabilities: [mountCap], volumeContext: {}, parameters: {}, secrets: {}, mutableParameters: {} },
        { timeoutMs: 30_000 },
      ),
    );
    expect(throttled.code).not.toBe(status.OK);

    // EC2 answers 5xx: a CreateVolume job fails (retryable) and is retried once EC2 is back.
    proxy.configure({ faults: { ...NO_FAULTS, error5xx: 1 } });
    const name = `pvc-${cluster}-retried`;
    const first = await codeOf(callUnary(c, 'createVolume', createReq(name, { capacityRange: { requiredBytes: GiB, limitBytes: 0 } }), { timeoutMs: 4_000 }));
    expect(first.code).not.toBe(status.OK);
    proxy.configure({ faults: NO_FAULTS });
    const retried = await callUnary(c, 'createVolume', createReq(name, { capacityRange: { requiredBytes: GiB, limitBytes: 0 } }), { timeoutMs: 90_000 });
    await callUnary(c, 'deleteVolume', { volumeId: retried.volume!.volumeId, secrets: {} }, { timeoutMs: 60_000 });

    // The node agent: RPCs observed, its attach limit exported under the Kubernetes node name, and a staged
    // volume's EBS NVMe metrics (its log page from the emulated host).
    await agent.api.info({});
    await agent.api.probe({});
    const staged = 'vol-0aaaabbbbccccdddd';
    await host.present(await host.loop(64 * 1024 * 1024), { volumeId: staged });
    await agent.api.stage({
      volumeId: staged,
      stagingTargetPath: `${host.kubeletRoot}/plugins/kubernetes.io/csi/ebs.csi.plinth.dev/${staged}/globalmount`,
      volumeCapability: mountCap,
      publishContext: {},
      secrets: {},
      volumeContext: {},
    });

    const nodeAddress = agent.agent.metrics!.address() as AddressInfo;
    const samples = [...(await scrape(controllerMetrics)), ...(await scrape(`127.0.0.1:${nodeAddress.port}`))];
    expect(samples.find((s) => s.name === 'plinth_node_attach_limit')).toEqual({
      name: 'plinth_node_attach_limit',
      labels: { node: 'node-a', instance_id: 'i-0123456789abcdef0' },
      value: 25,
    });

    const checked = new Set<string>();
    const problems: string[] = [];
    for (const { where, expr } of expressions()) {
      for (const sel of selectors(expr)) {
        if (sel.metric in EXTERNAL_SERIES) continue;
        checked.add(sel.metric);
        const why = unmatched(sel, samples);
        if (why) problems.push(`${where}: ${why}`);
      }
    }
    expect(problems).toEqual([]);
    // What was checked, for the record (and so an emptied dashboard cannot pass).
    console.log(`series checked: ${[...checked].sort().join(', ')}`);
    expect(checked.size).toBeGreaterThanOrEqual(13);
    // aws-ebs-csi-driver's EC2 API metrics (3) and its EBS NVMe metrics (15).
    expect([...checked].filter((m) => m.startsWith('aws_ebs_csi_')).length).toBe(18);
  }, 240_000);
});
