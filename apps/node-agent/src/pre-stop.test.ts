import { createLogger } from '@plinth/logger';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { drainReason, preStop, type AttachmentEvent, type AttachmentSource, type NodeState } from './pre-stop.js';

const log = createLogger({ name: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** A fake API: a node, a list of attachments, and watches fed by the test. */
class FakeSource implements AttachmentSource {
  lists = 0;
  watches: { rv: string; emit: (e: AttachmentEvent) => void; end: () => void }[] = [];
  private waiters: (() => void)[] = [];
  constructor(
    public nodeState: NodeState,
    public names: string[],
    public failLists = 0,
  ) {}
  node() {
    return Promise.resolve(this.nodeState);
  }
  list() {
    this.lists += 1;
    if (this.failLists > 0) {
      this.failLists -= 1;
      return Promise.reject(new Error('apiserver hiccup'));
    }
    return Promise.resolve({ names: [...this.names], resourceVersion: String(100 + this.lists) });
  }
  watch(rv: string, onEvent: (e: AttachmentEvent) => void, signal: AbortSignal) {
    return new Promise<void>((resolve) => {
      const w = { rv, emit: onEvent, end: resolve };
      signal.addEventListener('abort', () => resolve(), { once: true });
      this.watches.push(w);
      for (const f of this.waiters.splice(0)) f();
    });
  }
  /** Resolves once `n` watches have been opened. */
  async watchOpened(n: number) {
    while (this.watches.length < n) await new Promise<void>((r) => this.waiters.push(r));
    return this.watches[n - 1]!;
  }
}

describe('drainReason', () => {
  it('counts cordoned nodes and the drain taints of kubectl, Karpenter and cluster-autoscaler, nothing else', () => {
    expect(drainReason({ unschedulable: true })).toMatch(/cordoned/);
    expect(drainReason({ taints: [{ key: 'karpenter.sh/disruption' }] })).toMatch(/karpenter.sh\/disruption/);
    expect(drainReason({ taints: [{ key: 'ToBeDeletedByClusterAutoscaler' }] })).toMatch(/ToBeDeletedByClusterAutoscaler/);
    expect(drainReason({ taints: [{ key: 'dedicated' }] })).toBeUndefined();
    expect(drainReason({})).toBeUndefined();
  });
});

describe('preStop', () => {
  it('returns at once when the node is not draining (a DaemonSet rollout), without listing attachments', async () => {
    const src = new FakeSource({ unschedulable: false }, ['csi-1']);
    await expect(preStop(src, { timeoutMs: 5000, log })).resolves.toEqual({ outcome: 'not-draining' });
    expect(src.lists).toBe(0);
  });

  it('returns at once on a draining node with nothing attached', async () => {
    const src = new FakeSource({ unschedulable: true }, []);
    await expect(preStop(src, { timeoutMs: 5000, log })).resolves.toMatchObject({ outcome: 'detached' });
    expect(src.watches).toHaveLength(0);
  });

  it('waits until the last of its VolumeAttachments is deleted, watching from the list’s resourceVersion', async () => {
    const src = new FakeSource({ taints: [{ key: 'node.kubernetes.io/unschedulable' }] }, ['csi-1', 'csi-2']);
    let settled = false;
    const done = preStop(src, { timeoutMs: 10_000, log }).then((r) => ((settled = true), r));
    const w = await src.watchOpened(1);
    expect(w.rv).toBe('101');
    w.emit({ type: 'DELETED', name: 'csi-1', ours: true });
    w.emit({ type: 'ADDED', name: 'csi-other-node', ours: false });
    w.emit({ type: 'DELETED', name: 'csi-other-node', ours: false });
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    // A new attachment to this node while draining must be waited for too.
    w.emit({ type: 'ADDED', name: 'csi-3', ours: true });
    w.emit({ type: 'DELETED', name: 'csi-2', ours: true });
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    w.emit({ type: 'DELETED', name: 'csi-3', ours: true });
    await expect(done).resolves.toMatchObject({ outcome: 'detached' });
  });

  it('lists again when the watch ends or the list fails, and sees attachments gone meanwhile', async () => {
    const src = new FakeSource({ unschedulable: true }, ['csi-1'], 1);
    const done = preStop(src, { timeoutMs: 10_000, log, retryMs: 10 });
    const w = await src.watchOpened(1);
    expect(src.lists).toBe(2);
    src.names = [];
    w.end();
    await expect(done).resolves.toMatchObject({ outcome: 'detached' });
    expect(src.lists).toBe(3);
  });

  it('gives up when its time is up, naming what is left', async () => {
    const src = new FakeSource({ unschedulable: true }, ['csi-1', 'csi-2']);
    const t0 = Date.now();
    await expect(preStop(src, { timeoutMs: 300, log })).resolves.toEqual({ outcome: 'timeout', remaining: ['csi-1', 'csi-2'] });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });
});
