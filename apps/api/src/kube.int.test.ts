import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeSource } from './kube.js';

/**
 * The Kubernetes node source through the real @kubernetes/client-node against
 * a minimal API server serving Node, CSINode, VolumeAttachment and PV lists
 * (until the Kubernetes harness brings a real kube-apiserver).
 */
const DRIVER = 'ebs.csi.plinth.dev';
const list = (kind: string, apiVersion: string, items: unknown[]) => ({ kind: `${kind}List`, apiVersion, metadata: { resourceVersion: '1' }, items });
const LISTS: Record<string, unknown> = {
  '/api/v1/nodes': list('Node', 'v1', [
    {
      metadata: { name: 'worker-1', labels: { 'topology.kubernetes.io/zone': 'us-east-1a', 'node.kubernetes.io/instance-type': 'm5.large' } },
      spec: { providerID: 'aws:///us-east-1a/i-0123456789abcdef0' },
    },
    { metadata: { name: 'kind-node' }, spec: { providerID: 'kind://docker/kind/kind-node' } },
  ]),
  '/apis/storage.k8s.io/v1/csinodes': list('CSINode', 'storage.k8s.io/v1', [
    {
      metadata: { name: 'worker-1' },
      spec: {
        drivers: [
          { name: DRIVER, nodeID: 'i-0123456789abcdef0', allocatable: { count: 24 } },
          { name: 'other.csi', nodeID: 'x' },
        ],
      },
    },
  ]),
  '/apis/storage.k8s.io/v1/volumeattachments': list('VolumeAttachment', 'storage.k8s.io/v1', [
    { metadata: { name: 'va-1' }, spec: { attacher: DRIVER, nodeName: 'worker-1', source: { persistentVolumeName: 'pv-a' } }, status: { attached: true } },
    { metadata: { name: 'va-2' }, spec: { attacher: DRIVER, nodeName: 'worker-1', source: { persistentVolumeName: 'pv-b' } }, status: { attached: false } },
    { metadata: { name: 'va-3' }, spec: { attacher: 'other.csi', nodeName: 'worker-1', source: { persistentVolumeName: 'pv-x' } }, status: { attached: true } },
  ]),
  '/api/v1/persistentvolumes': list('PersistentVolume', 'v1', [
    { metadata: { name: 'pv-a' }, spec: { csi: { driver: DRIVER, volumeHandle: 'vol-0aaaaaaaaaaaaaaaa' } } },
    { metadata: { name: 'pv-b' }, spec: { csi: { driver: DRIVER, volumeHandle: 'vol-0bbbbbbbbbbbbbbbb' } } },
  ]),
};

let srv: Server;
const requests: string[] = [];
const saved = process.env.KUBECONFIG;

async function kubeconfig(server: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'plinth-api-kube-')), 'config');
  await writeFile(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: t
  cluster: { server: "${server}", insecure-skip-tls-verify: true }
users:
- name: u
  user: { token: test-token-not-logged }
contexts:
- name: c
  context: { cluster: t, user: u }
current-context: c
`,
  );
  return file;
}

beforeAll(async () => {
  srv = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    const body = LISTS[(req.url ?? '').split('?')[0]!];
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404 }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  if (saved === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = saved;
  await new Promise((r) => srv.close(r));
});

describe('Kubernetes node source', () => {
  it('reads Nodes, the CSINode count and VolumeAttachments of the driver, with volume ids from the PVs', async () => {
    process.env.KUBECONFIG = await kubeconfig(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
    const kube = await createKubeSource('auto', DRIVER, 1000);
    expect(kube).toBeDefined();
    const nodes = await kube!.nodes();
    expect(nodes).toEqual([
      {
        name: 'worker-1',
        instanceId: 'i-0123456789abcdef0',
        zone: 'us-east-1a',
        instanceType: 'm5.large',
        allocatable: 24,
        attachments: [
          { persistentVolume: 'pv-a', volumeId: 'vol-0aaaaaaaaaaaaaaaa', attached: true },
          { persistentVolume: 'pv-b', volumeId: 'vol-0bbbbbbbbbbbbbbbb', attached: false },
        ],
      },
      { name: 'kind-node', instanceId: undefined, zone: undefined, instanceType: undefined, allocatable: undefined, attachments: [] },
    ]);
    expect(requests.every((r) => r.endsWith('Bearer test-token-not-logged'))).toBe(true);
    const before = requests.length;
    await kube!.nodes();
    expect(requests.length).toBe(before); // cached
  });

  it('is off when told, and reports an unreachable API server as unavailable', async () => {
    expect(await createKubeSource('off', DRIVER, 0)).toBeUndefined();
    process.env.KUBECONFIG = await kubeconfig('http://127.0.0.1:1');
    const kube = await createKubeSource('on', DRIVER, 0);
    const err = (await kube!.nodes().catch((e: unknown) => e)) as { kind?: string; message?: string };
    expect(err.kind).toBe('Unavailable');
    expect(err.message).toMatch(/^Kubernetes API did not answer: .*ECONNREFUSED/);
  });
});
