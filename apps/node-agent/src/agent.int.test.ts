import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  IdentityClient,
  NodeClient,
  NodeServiceCapability_RPC_Type as Rpc,
  PluginCapability_Service_Type,
  PluginCapability_VolumeExpansion_Type,
} from '@plinth/csi';
import { createLogger } from '@plinth/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeHost, detachAll, type FakeHost } from '../../../test/support/nvme.js';
import { loadConfig } from './config.js';
import { resolveMetadata } from './metadata/resolve.js';
import { csiApi, startTestAgent, TEST_IDENTITY, type TestAgent } from '../../../test/support/node-agent.js';

const MAIN = join(import.meta.dirname, 'main.ts');
const silent = createLogger({ name: 't', level: 'silent' });

/** Starts main.ts as a child process; resolves once it logs a line matching `ready` (or exits). */
function startMain(
  env: Record<string, string>,
  ready = /node agent ready/,
): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null>; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--conditions=plinth-src', '--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve({ child, output: () => out, exited, ms: Date.now() - started });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => resolve({ child, output: () => out, exited, ms: Date.now() - started }));
  });
}

/** A TCP endpoint that accepts connections and never answers: the worst IMDS (a black hole). */
async function blackHole(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const srv = createTcpServer((s) => sockets.push(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

describe('node agent process and services', () => {
  let host: FakeHost;
  let t: TestAgent;
  beforeAll(async () => {
    host = await createFakeHost();
    t = await startTestAgent(host, { METRICS_ADDRESS: '127.0.0.1:0' });
  });
  afterAll(async () => {
    await t?.close();
    await host?.cleanup();
    await detachAll();
  });

  it('serves Identity and NodeGetInfo/NodeGetCapabilities on a 0600 unix socket', async () => {
    expect((await stat(t.socket)).mode & 0o777).toBe(0o600);
    const info = await t.api.pluginInfo({});
    expect(info.name).toBe('ebs.csi.plinth.dev');
    expect(info.vendorVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(await t.api.probe({})).toEqual({ ready: true });
    const pcaps = await t.api.pluginCapabilities({});
    expect(pcaps.capabilities.some((c) => c.volumeExpansion?.type === PluginCapability_VolumeExpansion_Type.ONLINE)).toBe(true);
    // The driver's capabilities, as the controller reports them: tools ask the node endpoint whether a controller service exists.
    expect(pcaps.capabilities.some((c) => c.service?.type === PluginCapability_Service_Type.CONTROLLER_SERVICE)).toBe(true);

    expect(await t.api.info({})).toEqual({
      nodeId: TEST_IDENTITY.nodeId,
      maxVolumesPerNode: TEST_IDENTITY.maxVolumesPerNode,
      accessibleTopology: { segments: { 'topology.kubernetes.io/zone': 'us-east-1a', 'topology.ebs.csi.aws.com/zone': 'us-east-1a' } },
    });
    const caps = (await t.api.capabilities({})).capabilities.map((c) => c.rpc?.type);
    expect(caps.sort()).toEqual(
      [
        Rpc.STAGE_UNSTAGE_VOLUME,
        Rpc.GET_VOLUME_STATS,
        Rpc.EXPAND_VOLUME,
        Rpc.VOLUME_CONDITION,
        Rpc.SINGLE_NODE_MULTI_WRITER,
        Rpc.GET_VOLUME_HEALTH,
        Rpc.GET_STORAGE_HEALTH,
      ].sort(),
    );
  });

  it('exports the CSI RPC latency histogram by method and code', async () => {
    await t.api.info({});
    await t.api.unpublish({ volumeId: 'bad', targetPath: '' }).catch(() => undefined);
    const addr = t.agent.metrics?.address() as AddressInfo;
    const body = await (await fetch(`http://127.0.0.1:${addr.port}/metrics`)).text();
    expect(body).toMatch(/plinth_csi_rpc_duration_seconds_count\{method="NodeGetInfo",code="OK"\} [1-9]/);
    expect(body).toMatch(/plinth_csi_rpc_duration_seconds_count\{method="NodeUnpublishVolume",code="INVALID_ARGUMENT"\} 1/);
  });

  it('main: falls back past an unanswering IMDS and absent Kubernetes to explicit config quickly, replaces a stale socket, and shuts down gracefully', async () => {
    const hole = await blackHole();
    const socket = join(host.root, 'main', 'csi.sock');
    // A stale socket left by a killed predecessor.
    const stale = await startMain({
      CSI_ENDPOINT: `unix://${socket}`,
      METADATA_SOURCES: 'env',
      NODE_ID: 'i-0stale',
      NODE_ZONE: 'us-east-1a',
      MAX_VOLUMES_PER_NODE: '3',
      KUBELET_ROOT: host.kubeletRoot,
    });
    stale.child.kill('SIGKILL');
    await stale.exited;
    expect((await lstat(socket)).isSocket()).toBe(true);

    const m = await startMain({
      CSI_ENDPOINT: `unix://${socket}`,
      IMDS_ENDPOINT: hole.url,
      IMDS_TIMEOUT_MS: '300',
      METADATA_SOURCES: 'imds,kubernetes,env',
      NODE_ID: 'i-0fallback',
      NODE_ZONE: 'us-west-2b',
      NODE_INSTANCE_TYPE: 'm5.large',
      MAX_VOLUMES_PER_NODE: '11',
      KUBELET_ROOT: host.kubeletRoot,
    });
    try {
      expect(m.output()).toMatch(/IMDS at http:\/\/127\.0\.0\.1:\d+: no answer within 300 ms/);
      expect(m.output()).toMatch(/KUBE_NODE_NAME is not set/);
      expect(m.output()).toMatch(/"source":"env"/);
      expect(m.output()).toMatch(/MAX_VOLUMES_PER_NODE=11 overrides/);
      const node = new NodeClient(`unix://${socket}`, credentials.createInsecure());
      const identity = new IdentityClient(`unix://${socket}`, credentials.createInsecure());
      const api = csiApi(node, identity);
      expect(await api.info({})).toMatchObject({ nodeId: 'i-0fallback', maxVolumesPerNode: 11 });
      node.close();
      identity.close();
      m.child.kill('SIGTERM');
      expect(await m.exited).toBe(0);
      expect(m.output()).toMatch(/"clean":true/);
      await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      m.child.kill('SIGKILL');
      await hole.close();
    }
  });

  it('main: a clear start-up error names every metadata source it tried', async () => {
    const m = await startMain(
      { CSI_ENDPOINT: `unix://${join(host.root, 'fail', 'csi.sock')}`, IMDS_DISABLED: 'true', KUBELET_ROOT: host.kubeletRoot },
      /cannot start/,
    );
    expect(await m.exited).toBe(1);
    const out = m.output();
    expect(out).toMatch(/no metadata source answered \(tried imds, kubernetes, env\)/);
    expect(out).toContain('IMDS: disabled by IMDS_DISABLED');
    expect(out).toContain('Kubernetes: KUBE_NODE_NAME is not set');
    expect(out).toContain('explicit config: NODE_ID and NODE_ZONE not set');
  });

  it('main: an invalid environment is refused naming the variables', async () => {
    const m = await startMain({ KUBELET_ROOT: 'relative', METADATA_SOURCES: 'gce' }, /invalid configuration/);
    expect(await m.exited).toBe(2);
    expect(m.output()).toMatch(/METADATA_SOURCES[\s\S]*KUBELET_ROOT|KUBELET_ROOT[\s\S]*METADATA_SOURCES/);
  });

  it('IMDSv2: takes a session token first and sends it with every metadata read', async () => {
    const seen: string[] = [];
    const srv: Server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.method === 'PUT' && req.url === '/latest/api/token' && req.headers['x-aws-ec2-metadata-token-ttl-seconds']) {
        res.end('tok-123');
        return;
      }
      if (req.headers['x-aws-ec2-metadata-token'] !== 'tok-123') {
        res.writeHead(401);
        res.end();
        return;
      }
      const answers: Record<string, string> = {
        '/latest/meta-data/instance-id': 'i-0imds',
        '/latest/meta-data/placement/availability-zone': 'eu-west-1c',
        '/latest/meta-data/instance-type': 'c6i.xlarge',
      };
      const a = answers[req.url ?? ''];
      res.writeHead(a ? 200 : 404);
      res.end(a ?? '');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const cfg = loadConfig({ IMDS_ENDPOINT: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, NODE_ID: 'i-0env', NODE_ZONE: 'x' });
      expect(await resolveMetadata(cfg, silent)).toEqual({ source: 'imds', instanceId: 'i-0imds', zone: 'eu-west-1c', instanceType: 'c6i.xlarge' });
      expect(seen[0]).toBe('PUT /latest/api/token');
      expect(seen).toHaveLength(4);
      // Order matters: with env first, env wins.
      expect(
        (await resolveMetadata(loadConfig({ METADATA_SOURCES: 'env,imds', IMDS_ENDPOINT: cfg.IMDS_ENDPOINT, NODE_ID: 'i-0env', NODE_ZONE: 'x' }), silent))
          .source,
      ).toBe('env');
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
