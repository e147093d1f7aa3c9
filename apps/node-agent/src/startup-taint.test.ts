import { createLogger } from '@plinth/logger';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { removeStartupTaint, startupTaintKey, type Taint, type TaintSource } from './startup-taint.js';

const log = createLogger({ name: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const DRIVER = 'ebs.csi.plinth.dev';
const TAINT: Taint = { key: `${DRIVER}/agent-not-ready`, effect: 'NoExecute' };
const OTHER: Taint = { key: 'dedicated', value: 'storage', effect: 'NoSchedule' };

/** A fake API server: a node with taints and a resourceVersion, a CSINode that lists the driver once registered. */
class FakeApi implements TaintSource {
  registered = false;
  taints: Taint[];
  rv = 1;
  calls: string[] = [];
  /** Errors to throw from the next calls, in order (undefined: answer). */
  failures: (Error | undefined)[] = [];
  /** Bumps the resourceVersion just before the next setTaints (someone else updated the node). */
  raceOnce = false;
  constructor(taints: Taint[]) {
    this.taints = [...taints];
  }
  private fail(call: string): void {
    this.calls.push(call);
    const e = this.failures.shift();
    if (e) throw e;
  }
  driverRegistered() {
    this.fail('csinode');
    return Promise.resolve(this.registered);
  }
  node() {
    this.fail('node');
    return Promise.resolve({ taints: [...this.taints], resourceVersion: String(this.rv) });
  }
  setTaints(taints: Taint[], rv: string) {
    this.fail('patch');
    if (this.raceOnce) {
      this.raceOnce = false;
      this.rv += 1;
    }
    if (rv !== String(this.rv)) return Promise.reject(new Error('the server rejected our request: test operation failed (409)'));
    this.taints = [...taints];
    this.rv += 1;
    return Promise.resolve();
  }
}

const opts = (extra: Partial<Parameters<typeof removeStartupTaint>[1]> = {}) => ({ driverName: DRIVER, log, retryMs: 1, maxRetryMs: 2, ...extra });

describe('startupTaintKey', () => {
  it('is <driver>/agent-not-ready, the aws-ebs-csi-driver convention with Plinth’s driver name', () => {
    expect(startupTaintKey(DRIVER)).toBe('ebs.csi.plinth.dev/agent-not-ready');
  });
});

describe('removeStartupTaint', () => {
  it('waits until the kubelet has registered the driver, then removes only its own taint', async () => {
    const api = new FakeApi([OTHER, TAINT]);
    let polls = 0;
    const registered = api.driverRegistered.bind(api);
    api.driverRegistered = async () => {
      if (++polls === 3) api.registered = true;
      return registered();
    };
    const r = await removeStartupTaint(api, opts());
    expect(r.outcome).toBe('removed');
    expect(polls).toBe(3);
    expect(api.taints).toEqual([OTHER]);
    expect(api.calls.filter((c) => c === 'patch')).toHaveLength(1);
  });

  it('removes the taint whatever its effect', async () => {
    const api = new FakeApi([{ ...TAINT, effect: 'NoSchedule' }]);
    api.registered = true;
    expect((await removeStartupTaint(api, opts())).outcome).toBe('removed');
    expect(api.taints).toEqual([]);
  });

  it('does nothing to a node without the taint', async () => {
    const api = new FakeApi([OTHER]);
    api.registered = true;
    expect((await removeStartupTaint(api, opts())).outcome).toBe('absent');
    expect(api.calls).not.toContain('patch');
    expect(api.taints).toEqual([OTHER]);
  });

  it('reads the node again when it changed between the read and the patch (no lost update)', async () => {
    const api = new FakeApi([TAINT]);
    api.registered = true;
    api.raceOnce = true;
    api.taints.push(OTHER); // what the racing writer has
    expect((await removeStartupTaint(api, opts())).outcome).toBe('removed');
    expect(api.calls.filter((c) => c === 'patch')).toHaveLength(2);
    expect(api.taints).toEqual([OTHER]);
  });

  it('retries through API errors', async () => {
    const api = new FakeApi([TAINT]);
    api.registered = true;
    api.failures = [new Error('connect ECONNREFUSED'), undefined, new Error('503 Service Unavailable')];
    expect((await removeStartupTaint(api, opts())).outcome).toBe('removed');
    expect(api.taints).toEqual([]);
  });

  it('stops when the agent stops, leaving the taint', async () => {
    const api = new FakeApi([TAINT]);
    const stop = new AbortController();
    const p = removeStartupTaint(api, opts({ signal: stop.signal, retryMs: 5 }));
    await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    expect(await p).toEqual({ outcome: 'stopped' });
    expect(api.taints).toEqual([TAINT]);
  });
});
