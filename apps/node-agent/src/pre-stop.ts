/**
 * The node DaemonSet's preStop hook (`node dist/node-agent.mjs pre-stop`), as aws-ebs-csi-driver has it: when
 * the node is being drained, the node agent must outlive the pods' volumes, or kubelet cannot unstage them and
 * the VolumeAttachments (and the EBS attachments behind them) stay. So the hook waits, bounded, until no
 * VolumeAttachment of this driver names this node. When the node is not being drained (a DaemonSet rollout,
 * a restart) it returns at once: the volumes stay where they are, and the new agent serves them.
 */
import type { Logger } from '@plinth/logger';

/** Taints that mean "this node is going away" (kubectl drain cordons; Karpenter and cluster-autoscaler taint). */
const DRAIN_TAINTS: readonly string[] = ['node.kubernetes.io/unschedulable', 'karpenter.sh/disruption', 'ToBeDeletedByClusterAutoscaler'];

export interface NodeState {
  unschedulable?: boolean;
  taints?: { key: string }[];
}

/** Why the node counts as draining, or undefined when it does not. */
export function drainReason(node: NodeState): string | undefined {
  if (node.unschedulable) return 'the node is cordoned (spec.unschedulable)';
  const taint = node.taints?.find((t) => DRAIN_TAINTS.includes(t.key));
  return taint ? `the node has the ${taint.key} taint` : undefined;
}

export interface AttachmentEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  name: string;
  /** This driver's attachment to this node. */
  ours: boolean;
}

/** The API calls the hook needs, so the waiting logic can be tested without a cluster. */
export interface AttachmentSource {
  node(): Promise<NodeState>;
  /** Names of this driver's VolumeAttachments on this node, and the list's resourceVersion. */
  list(): Promise<{ names: string[]; resourceVersion: string }>;
  /** Streams events after `resourceVersion` until the server ends the watch or `signal` aborts; resolves then. */
  watch(resourceVersion: string, onEvent: (e: AttachmentEvent) => void, signal: AbortSignal): Promise<void>;
}

export type PreStopOutcome = { outcome: 'not-draining' } | { outcome: 'detached'; waitedMs: number } | { outcome: 'timeout'; remaining: string[] };

/**
 * Returns once no VolumeAttachment of the driver names the node (list, then watch from the list's
 * resourceVersion; a watch that ends or fails is followed by a fresh list), or when `timeoutMs` is up.
 */
export async function preStop(src: AttachmentSource, opts: { timeoutMs: number; log: Logger; retryMs?: number }): Promise<PreStopOutcome> {
  const t0 = Date.now();
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const node = await src.node();
  const why = drainReason(node);
  if (!why) {
    opts.log.info('pre-stop: the node is not being drained; not waiting for volumes to detach');
    return { outcome: 'not-draining' };
  }
  opts.log.info({ why }, 'pre-stop: node draining; waiting for its VolumeAttachments to go');
  let remaining = new Set<string>();
  while (!deadline.aborted) {
    let rv: string;
    try {
      const listed = await src.list();
      remaining = new Set(listed.names);
      rv = listed.resourceVersion;
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'pre-stop: listing VolumeAttachments failed; retrying');
      await sleep(opts.retryMs ?? 1000, deadline);
      continue;
    }
    if (remaining.size === 0) return { outcome: 'detached', waitedMs: Date.now() - t0 };
    opts.log.info({ remaining: [...remaining] }, 'pre-stop: waiting for VolumeAttachments');
    const stop = new AbortController();
    const onDeadline = () => stop.abort();
    deadline.addEventListener('abort', onDeadline, { once: true });
    try {
      await src.watch(
        rv,
        (e) => {
          if (e.type === 'DELETED' || (e.type === 'MODIFIED' && !e.ours)) remaining.delete(e.name);
          else if ((e.type === 'ADDED' || e.type === 'MODIFIED') && e.ours) remaining.add(e.name);
          if (remaining.size === 0) stop.abort();
        },
        stop.signal,
      );
    } catch (err) {
      if (!stop.signal.aborted) opts.log.warn({ err: (err as Error).message }, 'pre-stop: watch failed; listing again');
    } finally {
      deadline.removeEventListener('abort', onDeadline);
    }
    if (remaining.size === 0) return { outcome: 'detached', waitedMs: Date.now() - t0 };
    if (!deadline.aborted) await sleep(opts.retryMs ?? 1000, deadline);
  }
  opts.log.warn({ remaining: [...remaining] }, 'pre-stop: time is up with VolumeAttachments left');
  return { outcome: 'timeout', remaining: [...remaining] };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The source on @kubernetes/client-node: in-cluster config, else KUBECONFIG, else ~/.kube/config. */
export async function kubernetesSource(nodeName: string, driverName: string): Promise<AttachmentSource> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const storage = kc.makeApiClient(k8s.StorageV1Api);
  const ours = (va: { spec?: { attacher?: string; nodeName?: string } }) => va.spec?.attacher === driverName && va.spec.nodeName === nodeName;
  return {
    async node() {
      const n = await core.readNode({ name: nodeName });
      return { unschedulable: n.spec?.unschedulable ?? false, taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key })) };
    },
    async list() {
      const l = await storage.listVolumeAttachment();
      return { names: l.items.filter(ours).map((va) => va.metadata?.name ?? '?'), resourceVersion: l.metadata?.resourceVersion ?? '' };
    },
    async watch(resourceVersion, onEvent, signal) {
      await new Promise<void>((resolve, reject) => {
        let controller: AbortController | undefined;
        const finish = () => {
          controller?.abort();
          resolve();
        };
        signal.addEventListener('abort', finish, { once: true });
        new k8s.Watch(kc)
          .watch(
            '/apis/storage.k8s.io/v1/volumeattachments',
            { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 60 },
            (type: string, obj: { metadata?: { name?: string }; spec?: { attacher?: string; nodeName?: string } }) => {
              onEvent({ type: type as AttachmentEvent['type'], name: obj.metadata?.name ?? '?', ours: ours(obj) });
            },
            (err: unknown) => {
              signal.removeEventListener('abort', finish);
              if (err && !signal.aborted) reject(err instanceof Error ? err : new Error(`watch ended: ${JSON.stringify(err)}`));
              else resolve();
            },
          )
          .then(
            (c) => {
              controller = c;
              if (signal.aborted) c.abort();
            },
            (err: unknown) => reject(err instanceof Error ? err : new Error(`watch failed: ${JSON.stringify(err)}`)),
          );
      });
    },
  };
}
