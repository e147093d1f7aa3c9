import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromKubernetes } from './kubernetes.js';

/**
 * The Kubernetes source through the real @kubernetes/client-node against a
 * minimal API server that serves one Node object (no cluster here).
 */
describe('Kubernetes Node metadata source', () => {
  let srv: Server;
  let dir: string;
  const saved = process.env.KUBECONFIG;
  const requests: string[] = [];
  beforeAll(async () => {
    srv = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const nodes: Record<string, unknown> = {
        '/api/v1/nodes/worker-1': {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: 'worker-1', labels: { 'topology.kubernetes.io/zone': 'eu-central-1b', 'node.kubernetes.io/instance-type': 'r6i.large' } },
          spec: { providerID: 'aws:///eu-central-1b/i-0fedcba987654321a' },
        },
        '/api/v1/nodes/kind-node': { apiVersion: 'v1', kind: 'Node', metadata: { name: 'kind-node' }, spec: { providerID: 'kind://docker/kind/kind-node' } },
      };
      const body = nodes[req.url ?? ''];
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'nodes not found' }));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    dir = await mkdtemp(join(tmpdir(), 'plinth-kube-'));
    const kubeconfig = join(dir, 'config');
    await writeFile(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters:
- name: t
  cluster:
    server: http://127.0.0.1:${(srv.address() as AddressInfo).port}
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: test-token
contexts:
- name: c
  context: { cluster: t, user: u }
current-context: c
`,
    );
    process.env.KUBECONFIG = kubeconfig;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    await new Promise<void>((r) => srv.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('reads instance id from providerID and zone and instance type from labels', async () => {
    expect(await fromKubernetes('worker-1', 3000)).toEqual({
      ok: { source: 'kubernetes', instanceId: 'i-0fedcba987654321a', zone: 'eu-central-1b', instanceType: 'r6i.large' },
    });
    expect(requests).toContain('GET /api/v1/nodes/worker-1');
  });

  it('says why it cannot answer: a non-AWS node, a missing node, no node name', async () => {
    expect(await fromKubernetes('kind-node', 3000)).toEqual({ skipped: 'Kubernetes: node kind-node has no AWS providerID ("kind://docker/kind/kind-node")' });
    const missing = await fromKubernetes('nope', 3000);
    expect('skipped' in missing && missing.skipped).toMatch(/^Kubernetes: reading node nope failed/);
    expect(await fromKubernetes(undefined, 3000)).toEqual({ skipped: 'Kubernetes: KUBE_NODE_NAME is not set' });
  });
});
