import { setTimeout as sleep } from 'node:timers/promises';
import { isPlinthError, type ErrorKind } from '@plinth/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cloud } from '../cloud.js';
import { TAG_CLUSTER, TAG_CSI_NAME } from '../tags.js';
import { causeCode } from '../errors.js';

/** What a contract run needs: a Cloud, a zone, a running instance there (with no CSI volumes) and its type. */
export interface ContractTarget {
  cloud: Cloud;
  zone: string;
  instanceId: string;
  instanceType: string;
  /** Launches another running instance in `zone` with one more EBS volume of `sizeGiB` mapped at `device` (RunInstances' BlockDeviceMappings); answers its id. */
  launchWithMapping(device: string, sizeGiB: number): Promise<string>;
  /** A second region of the same endpoint, for snapshot copies. */
  otherRegion: string;
}

const MISSING_VOLUME = 'vol-0fffffffffffffff1';
const MISSING_SNAPSHOT = 'snap-0fffffffffffffff1';
const MISSING_INSTANCE = 'i-0fffffffffffffff1';

/** Polls `read` until `ok` holds (LocalStack is instant, EC2 and the in-memory cloud may take a while). */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(25);
  }
}

async function failure(p: Promise<unknown>): Promise<{ kind: ErrorKind; code: string | undefined }> {
  try {
    await p;
  } catch (err) {
    if (!isPlinthError(err)) throw err;
    return { kind: err.kind, code: causeCode(err) };
  }
  throw new Error('expected the call to fail');
}

/**
 * The cases every Cloud must satisfy alike, the in-memory one and EC2
 * (LocalStack): eventual states, what look-ups answer, and the domain error
 * kind and EC2 code of each refusal.
 */
export function cloudContract(name: string, setup: () => Promise<ContractTarget>): void {
  describe(`Cloud contract: ${name}`, () => {
    let t: ContractTarget;
    let cloud: Cloud;
    const cluster = `contract-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const made: string[] = [];

    const volume = async (csiName: string, extra: Record<string, string> = {}) => {
      const v = await cloud.volumes.create({ zone: t.zone, sizeGiB: 1, type: 'gp3', tags: { [TAG_CSI_NAME]: csiName, [TAG_CLUSTER]: cluster, ...extra } });
      made.push(v.id);
      return v;
    };
    const read = async (id: string) => (await cloud.volumes.get([id])).get(id);
    const available = (id: string) =>
      eventually(
        () => read(id),
        (v) => v?.state === 'available',
        `${id} available`,
      );

    beforeAll(async () => {
      t = await setup();
      cloud = t.cloud;
    });

    afterAll(async () => {
      for (const id of made) await cloud.volumes.delete(id).catch(() => undefined);
    });

    it('creates a volume that becomes available, with its size, type, zone and tags', async () => {
      const v = await volume('create', { team: 'a' });
      expect(v.id).toMatch(/^vol-/);
      expect(['creating', 'available']).toContain(v.state);
      const ready = await available(v.id);
      expect(ready).toMatchObject({ id: v.id, sizeGiB: 1, type: 'gp3', zone: t.zone, encrypted: false, multiAttach: false, attachments: [] });
      expect(ready?.tags).toMatchObject({ [TAG_CSI_NAME]: 'create', [TAG_CLUSTER]: cluster, team: 'a' });
      expect(ready?.createdAt).toBeInstanceOf(Date);
    });

    it('adds, overwrites and deletes tags', async () => {
      const v = await volume('tags', { keep: '1', drop: '2' });
      await cloud.volumes.tag(v.id, { keep: 'one', added: '3' });
      await cloud.volumes.untag(v.id, ['drop', 'never-set']);
      const tags = (await cloud.volumes.get([v.id])).get(v.id)?.tags;
      expect(tags).toMatchObject({ keep: 'one', added: '3' });
      expect(tags).not.toHaveProperty('drop');
    });

    it('finds volumes by CSI name within the cluster only, and lists the cluster', async () => {
      const mine = await volume('named');
      const other = await cloud.volumes.create({ zone: t.zone, sizeGiB: 1, type: 'gp3', tags: { [TAG_CSI_NAME]: 'named', [TAG_CLUSTER]: `${cluster}-other` } });
      made.push(other.id);
      const found = await cloud.volumes.findByName(cluster, ['named', 'nobody']);
      expect(found.get('named')?.map((v) => v.id)).toEqual([mine.id]);
      expect(found.has('nobody')).toBe(false);
      const listed = (await cloud.volumes.list(cluster)).map((v) => v.id);
      expect(listed).toContain(mine.id);
      expect(listed).not.toContain(other.id);
    });

    it('answers look-ups of missing ids by leaving them out', async () => {
      const v = await volume('lookup');
      const found = await cloud.volumes.get([v.id, MISSING_VOLUME]);
      expect([...found.keys()]).toEqual([v.id]);
      expect((await cloud.snapshots.get([MISSING_SNAPSHOT])).size).toBe(0);
      expect((await cloud.instances.get([MISSING_INSTANCE])).size).toBe(0);
    });

    it('refuses calls on missing resources with NotFound and EC2 codes', async () => {
      expect(await failure(cloud.volumes.delete(MISSING_VOLUME))).toEqual({ kind: 'NotFound', code: 'InvalidVolume.NotFound' });
      expect(await failure(cloud.attachments.attach(MISSING_VOLUME, t.instanceId, '/dev/xvdbz'))).toEqual({ kind: 'NotFound', code: 'InvalidVolume.NotFound' });
      expect(await failure(cloud.snapshots.delete(MISSING_SNAPSHOT))).toEqual({ kind: 'NotFound', code: 'InvalidSnapshot.NotFound' });
      const v = await volume('no-instance');
      await available(v.id);
      expect(await failure(cloud.attachments.attach(v.id, MISSING_INSTANCE, '/dev/xvdbz'))).toEqual({ kind: 'NotFound', code: 'InvalidInstanceID.NotFound' });
    });

    it('attaches (attaching → attached, on the device asked for), refuses deletion while attached, and detaches', async () => {
      const v = await volume('attach');
      await available(v.id);
      const a = await cloud.attachments.attach(v.id, t.instanceId, '/dev/xvdbq');
      expect(a).toMatchObject({ instanceId: t.instanceId, device: '/dev/xvdbq' });
      expect(['attaching', 'attached']).toContain(a.state);
      const attached = await eventually(
        () => read(v.id),
        (x) => x?.attachments[0]?.state === 'attached',
        'attached',
      );
      expect(attached).toMatchObject({ state: 'in-use', attachments: [{ instanceId: t.instanceId, device: '/dev/xvdbq', state: 'attached' }] });
      const inst = (await cloud.instances.get([t.instanceId])).get(t.instanceId);
      expect(inst?.blockDevices).toContainEqual(expect.objectContaining({ device: '/dev/xvdbq', volumeId: v.id }));

      expect(await failure(cloud.volumes.delete(v.id))).toEqual({ kind: 'FailedPrecondition', code: 'VolumeInUse' });

      await cloud.attachments.detach(v.id, t.instanceId);
      const detached = await eventually(
        () => read(v.id),
        (x) => x?.state === 'available' && x.attachments.length === 0,
        'detached',
      );
      expect(detached?.attachments).toEqual([]);
      await cloud.volumes.delete(v.id);
      await eventually(
        () => read(v.id),
        (x) => x === undefined || x.state === 'deleted',
        'deleted',
      );
    });

    it('takes, finds, lists and deletes snapshots', async () => {
      const v = await volume('snap-source');
      await available(v.id);
      const s = await cloud.snapshots.create({ volumeId: v.id, description: 'contract', tags: { [TAG_CLUSTER]: cluster, CSIVolumeSnapshotName: 'snap-1' } });
      expect(s).toMatchObject({ volumeId: v.id, tags: { CSIVolumeSnapshotName: 'snap-1' } });
      expect(['pending', 'completed']).toContain(s.state);
      const done = await eventually(
        async () => (await cloud.snapshots.get([s.id])).get(s.id),
        (x) => x?.state === 'completed',
        'snapshot completed',
      );
      expect(done).toMatchObject({ id: s.id, volumeId: v.id, sizeGiB: 1, encrypted: false });
      expect((await cloud.snapshots.list(cluster)).map((x) => x.id)).toContain(s.id);
      expect((await cloud.snapshots.list(cluster, { volumeId: v.id })).map((x) => x.id)).toEqual([s.id]);
      expect((await cloud.snapshots.list(`${cluster}-other`)).map((x) => x.id)).not.toContain(s.id);
      expect((await cloud.snapshots.findByTag(cluster, 'CSIVolumeSnapshotName', ['snap-1', 'none'])).get('snap-1')?.map((x) => x.id)).toEqual([s.id]);

      const restored = await cloud.volumes.create({ zone: t.zone, type: 'gp3', snapshotId: s.id, tags: { [TAG_CLUSTER]: cluster } });
      made.push(restored.id);
      expect(restored.sizeGiB).toBe(1);
      expect((await cloud.volumes.fromSnapshot(s.id)).map((x) => x.id)).toEqual([restored.id]);
      await available(restored.id);

      await cloud.snapshots.delete(s.id);
      expect((await cloud.snapshots.get([s.id])).size).toBe(0);
      expect(await failure(cloud.snapshots.delete(s.id))).toEqual({ kind: 'NotFound', code: 'InvalidSnapshot.NotFound' });
    });

    it('copies a completed snapshot to another region, tagged there in the same call; finds, describes and deletes the copy there', async () => {
      expect(await cloud.regions.list()).toEqual(expect.arrayContaining([cloud.region, t.otherRegion]));
      const there = cloud.inRegion(t.otherRegion);
      expect(there.region).toBe(t.otherRegion);
      const v = await volume('copy-source');
      await available(v.id);
      const s = await cloud.snapshots.create({ volumeId: v.id, tags: { [TAG_CLUSTER]: cluster, CSIVolumeSnapshotName: 'copied' } });
      await eventually(
        async () => (await cloud.snapshots.get([s.id])).get(s.id),
        (x) => x?.state === 'completed',
        'snapshot completed',
      );
      const tags = { [TAG_CLUSTER]: cluster, CSIVolumeSnapshotName: 'copied', 'plinth.dev/copy-of': s.id };
      const copyId = await there.snapshots.copy({ sourceSnapshotId: s.id, sourceRegion: cloud.region, description: 'contract copy', tags });
      expect(copyId).toMatch(/^snap-/);
      expect(copyId).not.toBe(s.id);
      const copy = await eventually(
        async () => (await there.snapshots.get([copyId])).get(copyId),
        (x) => x?.state === 'completed',
        'copy completed',
      );
      expect(copy).toMatchObject({ id: copyId, sizeGiB: 1, tags });
      // The copy lives in the other region only.
      expect((await cloud.snapshots.get([copyId])).size).toBe(0);
      expect((await there.snapshots.findByTag(cluster, 'plinth.dev/copy-of', [s.id])).get(s.id)?.map((x) => x.id)).toEqual([copyId]);
      expect((await cloud.snapshots.findByTag(cluster, 'plinth.dev/copy-of', [s.id])).size).toBe(0);

      await there.snapshots.delete(copyId);
      expect((await there.snapshots.get([copyId])).size).toBe(0);
      expect((await cloud.snapshots.get([s.id])).size).toBe(1);
      await cloud.snapshots.delete(s.id);
    });

    it('refuses to copy a snapshot that does not exist in the source region', async () => {
      const there = cloud.inRegion(t.otherRegion);
      expect(await failure(there.snapshots.copy({ sourceSnapshotId: MISSING_SNAPSHOT, sourceRegion: cloud.region, tags: { [TAG_CLUSTER]: cluster } }))).toEqual(
        {
          kind: 'NotFound',
          code: 'InvalidSnapshot.NotFound',
        },
      );
    });

    it('modifies a volume and reports the modification; tags it', async () => {
      const v = await volume('modify');
      await available(v.id);
      const m = await cloud.volumes.modify(v.id, { sizeGiB: 2 });
      expect(m).toMatchObject({ volumeId: v.id, targetSizeGiB: 2 });
      await eventually(
        () => read(v.id),
        (x) => x?.sizeGiB === 2,
        'size 2',
      );
      const mods = await cloud.volumes.modifications(v.id);
      expect(mods.map((x) => x.targetSizeGiB)).toContain(2);
      await cloud.volumes.tag(v.id, { extra: 'yes' });
      expect((await read(v.id))?.tags.extra).toBe('yes');
    });

    it('describes the instance and its type', async () => {
      const i = (await cloud.instances.get([t.instanceId, MISSING_INSTANCE])).get(t.instanceId);
      expect(i).toMatchObject({ id: t.instanceId, type: t.instanceType, zone: t.zone, state: 'running' });
      expect(i?.networkInterfaceCount).toBeGreaterThanOrEqual(1);
      const types = await cloud.instances.types([t.instanceType]);
      expect(types.get(t.instanceType)).toMatchObject({ name: t.instanceType });
      expect(types.get(t.instanceType)?.nvmeInstanceStoreDisks).toBeGreaterThanOrEqual(0);
    });

    it('describes the block device mappings an instance was launched with: its root device, and each extra device with its attached volume', async () => {
      const id = await t.launchWithMapping('/dev/xvdbz', 2);
      const i = (await cloud.instances.get([id])).get(id);
      expect(i?.rootDevice).toMatch(/^\/dev\/[a-z0-9]+$/);
      expect(i?.rootDevice).not.toBe('/dev/xvdbz');
      const mapping = i?.blockDevices.find((b) => b.device === '/dev/xvdbz');
      expect(mapping).toMatchObject({ device: '/dev/xvdbz', volumeId: expect.stringMatching(/^vol-/) as unknown, state: 'attached' });
      expect(await read(mapping!.volumeId!)).toMatchObject({
        sizeGiB: 2,
        state: 'in-use',
        zone: t.zone,
        attachments: [{ instanceId: id, device: '/dev/xvdbz', state: 'attached' }],
      });
    });

    it("lists the region's zones", async () => {
      const zones = await cloud.zones.list();
      expect(zones).toContainEqual(expect.objectContaining({ name: t.zone, state: 'available' }));
      await cloud.ping();
    });
  });
}
