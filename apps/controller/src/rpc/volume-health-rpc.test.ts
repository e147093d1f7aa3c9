import { MemoryCloud } from '@plinth/cloud/memory';
import { HealthGauge, VolumeHealthErrorType as Health, type CallContext } from '@plinth/csi';
import { createLogger } from '@plinth/logger';
import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { Cloud } from '../cloud.js';
import type { HealthDeps } from '../health-deps.js';
import { controllerGetVolumeHealth } from './get-volume-health.js';
import { controllerListVolumeHealth } from './list-volume-health.js';

const CLUSTER = 'health-test';
const ctx: CallContext = { deadline: Infinity, signal: new AbortController().signal, method: 'test' };
const impaired = { status: 'impaired', details: [{ name: 'io-enabled', status: 'failed' }], events: [], actions: [] };
const degraded = { status: 'warning', details: [{ name: 'io-performance', status: 'degraded' }], events: [], actions: [] };

let ec2: MemoryCloud;
let registry: Registry;
let deps: HealthDeps;

async function volume(): Promise<string> {
  const v = await ec2.volumes.create({ zone: 'us-east-1a', sizeGiB: 1, type: 'gp3', tags: { 'plinth.dev/cluster-id': CLUSTER } });
  return v.id;
}
const gauge = async () =>
  (await registry.getSingleMetric('plinth_volume_health')!.get()).values.map((v): Record<string, string | number> => ({
    ...(v.labels as Record<string, string>),
    value: v.value,
  }));

beforeEach(() => {
  ec2 = new MemoryCloud();
  registry = new Registry();
  deps = {
    cloud: new Cloud(ec2, CLUSTER, { pollIntervalMs: 100, log: createLogger({ name: 'test', level: 'silent' }) }),
    health: new HealthGauge(registry, 'test'),
    stuckAttachMs: 90_000,
  };
});

describe('ControllerGetVolumeHealth', () => {
  it('answers a healthy volume with no statuses, and an impaired one INACCESSIBLE; the gauge follows', async () => {
    const id = await volume();
    expect(await controllerGetVolumeHealth(deps, { volumeId: id, secrets: {} }, ctx)).toEqual({ volumeHealth: { volumeId: id, healthStatuses: [] } });
    ec2.setVolumeStatus(id, impaired);
    const res = await controllerGetVolumeHealth(deps, { volumeId: id, secrets: {} }, ctx);
    expect(res.volumeHealth?.healthStatuses.map((e) => [e.status, e.reason])).toEqual([[Health.INACCESSIBLE, 'IoDisabled']]);
    expect(await gauge()).toEqual([{ volume_id: id, status: 'inaccessible', reason: 'IoDisabled', value: 1 }]);
    ec2.setVolumeStatus(id, undefined);
    await controllerGetVolumeHealth(deps, { volumeId: id, secrets: {} }, ctx);
    expect(await gauge()).toEqual([]);
  });

  it('is INVALID_ARGUMENT without a volume id and NOT_FOUND for one that does not exist', async () => {
    await expect(controllerGetVolumeHealth(deps, { volumeId: '', secrets: {} }, ctx)).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: 'volume_id is required',
    });
    await expect(controllerGetVolumeHealth(deps, { volumeId: 'vol-0fffffffffffffff1', secrets: {} }, ctx)).rejects.toMatchObject({
      kind: 'NotFound',
      message: expect.stringContaining('vol-0fffffffffffffff1') as string,
    });
    await expect(controllerGetVolumeHealth(deps, { volumeId: 'not-a-volume', secrets: {} }, ctx)).rejects.toMatchObject({ kind: 'NotFound' });
  });
});

describe('ControllerListVolumeHealth', () => {
  it('lists only the abnormal volumes of the cluster, in id order, paged; a foreign token is ABORTED', async () => {
    const ids = [await volume(), await volume(), await volume(), await volume()];
    const other = await ec2.volumes.create({ zone: 'us-east-1a', sizeGiB: 1, type: 'gp3', tags: { 'plinth.dev/cluster-id': 'someone-else' } });
    ec2.setVolumeStatus(other.id, impaired);
    ec2.setVolumeStatus(ids[0]!, impaired);
    ec2.setVolumeStatus(ids[2]!, degraded);
    ec2.setVolumeStatus(ids[3]!, impaired);

    const all = await controllerListVolumeHealth(deps, { maxEntries: 0, startingToken: '', secrets: {} }, ctx);
    expect(all.entries.map((e) => e.volumeId)).toEqual([ids[0], ids[2], ids[3]].sort());
    expect(all.nextToken).toBe('');
    expect(all.entries.find((e) => e.volumeId === ids[2])?.healthStatuses.map((e) => e.status)).toEqual([Health.DEGRADED]);

    const seen: string[] = [];
    let token = '';
    do {
      const page = await controllerListVolumeHealth(deps, { maxEntries: 2, startingToken: token, secrets: {} }, ctx);
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries.map((e) => e.volumeId));
      token = page.nextToken;
    } while (token);
    expect(seen).toEqual(all.entries.map((e) => e.volumeId));

    await expect(controllerListVolumeHealth(deps, { maxEntries: 0, startingToken: 'bogus', secrets: {} }, ctx)).rejects.toMatchObject({ kind: 'Aborted' });
    await expect(controllerListVolumeHealth(deps, { maxEntries: -1, startingToken: '', secrets: {} }, ctx)).rejects.toMatchObject({ kind: 'InvalidArgument' });
  });

  it('a full listing clears the gauge of volumes that recovered', async () => {
    const a = await volume();
    const b = await volume();
    ec2.setVolumeStatus(a, impaired);
    ec2.setVolumeStatus(b, degraded);
    await controllerListVolumeHealth(deps, { maxEntries: 0, startingToken: '', secrets: {} }, ctx);
    expect((await gauge()).map((s) => s.volume_id).sort()).toEqual([a, b].sort());
    ec2.setVolumeStatus(a, undefined);
    await controllerListVolumeHealth(deps, { maxEntries: 0, startingToken: '', secrets: {} }, ctx);
    expect(await gauge()).toEqual([{ volume_id: b, status: 'degraded', reason: 'IoPerformanceDegraded', value: 1 }]);
  });
});
