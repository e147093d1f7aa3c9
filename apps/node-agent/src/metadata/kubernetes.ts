import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { SourceResult } from './types.js';

/** "aws:///us-east-1a/i-0123456789abcdef0" -> zone and instance id. */
export function parseProviderId(providerId: string): { zone?: string; instanceId: string } | undefined {
  const m = /^aws:\/\/\/(?:([a-z0-9-]+)\/)?(i-[0-9a-f]+)$/.exec(providerId);
  if (!m?.[2]) return undefined;
  return m[1] ? { zone: m[1], instanceId: m[2] } : { instanceId: m[2] };
}

/** Whether a Kubernetes client has somewhere to connect: in-cluster, KUBECONFIG or ~/.kube/config. */
export function hasKubeconfig(): boolean {
  return Boolean(process.env.KUBECONFIG || process.env.KUBERNETES_SERVICE_HOST || existsSync(join(homedir(), '.kube', 'config')));
}

/** The Node object: providerID for the instance id, labels for zone and instance type. */
export async function fromKubernetes(nodeName: string | undefined, timeoutMs: number): Promise<SourceResult> {
  if (!nodeName) return { skipped: 'Kubernetes: KUBE_NODE_NAME is not set' };
  if (!hasKubeconfig()) return { skipped: 'Kubernetes: no in-cluster config and no KUBECONFIG' };
  try {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromDefault();
    const api = kc.makeApiClient(k8s.CoreV1Api);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const node = await Promise.race([api.readNode({ name: nodeName }), timeout]).finally(() => clearTimeout(timer));
    const labels = node.metadata?.labels ?? {};
    const parsed = parseProviderId(node.spec?.providerID ?? '');
    if (!parsed) return { skipped: `Kubernetes: node ${nodeName} has no AWS providerID ("${node.spec?.providerID ?? ''}")` };
    const zone = labels['topology.kubernetes.io/zone'] ?? labels['failure-domain.beta.kubernetes.io/zone'] ?? parsed.zone;
    if (!zone) return { skipped: `Kubernetes: node ${nodeName} has no zone label` };
    const instanceType = labels['node.kubernetes.io/instance-type'] ?? labels['beta.kubernetes.io/instance-type'];
    return { ok: { source: 'kubernetes', instanceId: parsed.instanceId, zone, instanceType } };
  } catch (err) {
    return { skipped: `Kubernetes: reading node ${nodeName} failed: ${(err as Error).message.split('\n')[0]}` };
  }
}
