/**
 * The startup taint, as aws-ebs-csi-driver has it (`ebs.csi.aws.com/agent-not-ready`): a node can be created with
 * the taint `<driver>/agent-not-ready:NoExecute` (Karpenter `startupTaints`, an EKS node group's taints, kubelet
 * `--register-with-taints`), so no pod that needs a Plinth volume is scheduled there before the node agent can
 * serve it. Once the kubelet has registered the driver for this node (the CSINode object lists it: its
 * node-driver-registrar reached the kubelet and NodeGetInfo answered), the node agent removes the taint. A node
 * without the taint costs one GET. The removal retries with back-off until it succeeds or the agent stops; a
 * failure never stops the CSI service.
 */
import type { Logger } from '@plinth/logger';

/** `<driver>/agent-not-ready`: the key of the taint the node agent removes (any effect). */
export const startupTaintKey = (driverName: string): string => `${driverName}/agent-not-ready`;

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: Date | string;
}

/** The API calls the removal needs, so its logic can be tested without a cluster. */
export interface TaintSource {
  /** Whether the CSINode object of this node lists the driver (the kubelet registered it); false when there is no CSINode yet. */
  driverRegistered(): Promise<boolean>;
  node(): Promise<{ taints: Taint[]; resourceVersion: string }>;
  /** Sets the node's taints if its resourceVersion is still `resourceVersion` (a conflict rejects: read again). */
  setTaints(taints: Taint[], resourceVersion: string): Promise<void>;
}

export type StartupTaintOutcome = { outcome: 'removed'; waitedMs: number } | { outcome: 'absent'; waitedMs: number } | { outcome: 'stopped' };

/**
 * Waits for the kubelet to register the driver, then removes the startup taint from the node. Resolves with what
 * it did, or `stopped` when `signal` aborts first. Errors (API down, a conflicting update) are logged and retried.
 */
export async function removeStartupTaint(
  src: TaintSource,
  opts: { driverName: string; log: Logger; signal?: AbortSignal; retryMs?: number; maxRetryMs?: number },
): Promise<StartupTaintOutcome> {
  const key = startupTaintKey(opts.driverName);
  const t0 = Date.now();
  const base = opts.retryMs ?? 1000;
  const max = opts.maxRetryMs ?? 30_000;
  let delay = base;
  let waitingLogged = false;
  while (!opts.signal?.aborted) {
    try {
      if (!(await src.driverRegistered())) {
        if (!waitingLogged) opts.log.info({ taint: key }, 'startup taint: waiting for the kubelet to register the driver (CSINode) before removing it');
        waitingLogged = true;
      } else {
        const node = await src.node();
        const keep = node.taints.filter((t) => t.key !== key);
        if (keep.length === node.taints.length) {
          opts.log.info({ taint: key }, 'startup taint: the node does not have it; nothing to remove');
          return { outcome: 'absent', waitedMs: Date.now() - t0 };
        }
        await src.setTaints(keep, node.resourceVersion);
        opts.log.info({ taint: key, waitedMs: Date.now() - t0 }, 'startup taint: removed; pods that need Plinth volumes can now be scheduled here');
        return { outcome: 'removed', waitedMs: Date.now() - t0 };
      }
    } catch (err) {
      opts.log.warn({ taint: key, err: (err as Error).message.split('\n')[0] }, 'startup taint: could not remove it yet; retrying');
      delay = Math.min(delay * 2, max);
    }
    await sleep(delay, opts.signal);
  }
  return { outcome: 'stopped' };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The source on @kubernetes/client-node: in-cluster config, else KUBECONFIG, else ~/.kube/config. */
export async function kubernetesTaintSource(nodeName: string, driverName: string): Promise<TaintSource> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const storage = kc.makeApiClient(k8s.StorageV1Api);
  return {
    async driverRegistered() {
      try {
        const csiNode = await storage.readCSINode({ name: nodeName });
        return (csiNode.spec?.drivers ?? []).some((d) => d.name === driverName);
      } catch (err) {
        if ((err as { code?: number }).code === 404) return false;
        throw err;
      }
    },
    async node() {
      const n = await core.readNode({ name: nodeName });
      return { taints: n.spec?.taints ?? [], resourceVersion: n.metadata?.resourceVersion ?? '' };
    },
    async setTaints(taints, resourceVersion) {
      // A JSON patch that first tests the resourceVersion: a taint added or removed meanwhile makes it fail, and the
      // next attempt reads the node again instead of overwriting that change.
      await core.patchNode(
        {
          name: nodeName,
          body: [
            { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
            { op: 'replace', path: '/spec/taints', value: taints },
          ],
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
      );
    },
  };
}
