import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { unavailable } from '@plinth/errors';
import { TtlCache } from './cache.js';

/** What Kubernetes says about one node, for comparison with its Redis registration. */
export interface KubeNode {
  name: string;
  instanceId?: string | undefined;
  zone?: string | undefined;
  instanceType?: string | undefined;
  /** CSINode's allocatable count for Plinth's driver (what the scheduler uses). */
  allocatable?: number | undefined;
  /** VolumeAttachments of Plinth's driver on this node: volume id (from the PV's volumeHandle) and whether attached. */
  attachments: { volumeId?: string | undefined; persistentVolume?: string | undefined; attached: boolean }[];
}

export interface KubeSource {
  nodes(): Promise<KubeNode[]>;
}

/** "aws:///us-east-1a/i-0123456789abcdef0" → zone and instance id. */
function parseProviderId(providerId: string | undefined): { zone?: string; instanceId: string } | undefined {
  const m = /^aws:\/\/\/(?:([a-z0-9-]+)\/)?(i-[0-9a-f]+)$/.exec(providerId ?? '');
  if (!m?.[2]) return undefined;
  return m[1] ? { zone: m[1], instanceId: m[2] } : { instanceId: m[2] };
}

function hasKubeconfig(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KUBECONFIG || env.KUBERNETES_SERVICE_HOST || existsSync(join(homedir(), '.kube', 'config')));
}

/**
 * Kubernetes as a node source (Node, CSINode, VolumeAttachment, PV), when
 * the API runs with a kubeconfig or in a cluster. `mode` off: never; auto:
 * when a kubeconfig or in-cluster env exists; on: required.
 */
export async function createKubeSource(mode: 'auto' | 'on' | 'off', driverName: string, ttlMs: number): Promise<KubeSource | undefined> {
  if (mode === 'off') return undefined;
  if (mode === 'auto' && !hasKubeconfig()) return undefined;
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const storage = kc.makeApiClient(k8s.StorageV1Api);
  const cache = new TtlCache<KubeNode[]>(ttlMs);
  return {
    nodes: () =>
      cache.get('all', async () => {
        try {
          const [nodes, csiNodes, attachments, pvs] = await Promise.all([
            core.listNode(),
            storage.listCSINode(),
            storage.listVolumeAttachment(),
            core.listPersistentVolume(),
          ]);
          const handle = new Map<string, string>();
          for (const pv of pvs.items) if (pv.spec?.csi?.driver === driverName && pv.metadata?.name) handle.set(pv.metadata.name, pv.spec.csi.volumeHandle);
          const allocatable = new Map<string, number | undefined>();
          for (const c of csiNodes.items) {
            const d = c.spec.drivers.find((x) => x.name === driverName);
            if (d && c.metadata?.name) allocatable.set(c.metadata.name, d.allocatable?.count);
          }
          return nodes.items.map((n): KubeNode => {
            const name = n.metadata?.name ?? '';
            const labels = n.metadata?.labels ?? {};
            const provider = parseProviderId(n.spec?.providerID);
            return {
              name,
              instanceId: provider?.instanceId,
              zone: labels['topology.kubernetes.io/zone'] ?? provider?.zone,
              instanceType: labels['node.kubernetes.io/instance-type'],
              allocatable: allocatable.get(name),
              attachments: attachments.items
                .filter((a) => a.spec.attacher === driverName && a.spec.nodeName === name)
                .map((a) => {
                  const pv = a.spec.source.persistentVolumeName;
                  return { persistentVolume: pv, volumeId: pv ? handle.get(pv) : undefined, attached: a.status?.attached === true };
                }),
            };
          });
        } catch (err) {
          throw unavailable(`Kubernetes API did not answer: ${(err as Error).message.split('\n')[0]}`);
        }
      }),
  };
}
