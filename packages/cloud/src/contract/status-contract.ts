import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cloud } from '../cloud.js';
import { TAG_CLUSTER, TAG_CSI_NAME } from '../tags.js';

/** A Cloud whose endpoint has volume status checks, with a way to make EC2 report a volume impaired (I/O disabled) or healthy again. */
export interface StatusTarget {
  cloud: Cloud;
  zone: string;
  /** EC2 reports the volume `impaired`: io-enabled failed, event potential-data-inconsistency, action enable-volume-io. */
  impair(volumeId: string): Promise<void>;
  /** EC2 reports it `ok` again. */
  heal(volumeId: string): Promise<void>;
  /** The same account through an endpoint without DescribeVolumeStatus (LocalStack itself, moto). */
  withoutChecks: Cloud;
  cleanup?(): Promise<void>;
}

const MISSING_VOLUME = 'vol-0fffffffffffffff2';

/**
 * DescribeVolumeStatus through `volumes.status`, held alike for the
 * in-memory cloud and EC2 (LocalStack, behind the fault proxy that answers
 * the action as EC2 does, since LocalStack lacks it).
 */
export function volumeStatusContract(name: string, setup: () => Promise<StatusTarget>): void {
  describe(`Cloud volume status contract: ${name}`, () => {
    let t: StatusTarget;
    const made: string[] = [];
    const cluster = `status-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const volume = async (csiName: string) => {
      const v = await t.cloud.volumes.create({ zone: t.zone, sizeGiB: 1, type: 'gp3', tags: { [TAG_CSI_NAME]: csiName, [TAG_CLUSTER]: cluster } });
      made.push(v.id);
      return v.id;
    };

    beforeAll(async () => {
      t = await setup();
    });
    afterAll(async () => {
      for (const id of made) await t.cloud.volumes.delete(id).catch(() => undefined);
      await t.cleanup?.();
    });

    it('reports a healthy volume ok (or still checking) and leaves out ids EC2 does not know', async () => {
      const id = await volume('healthy');
      const s = await t.cloud.volumes.status([id, MISSING_VOLUME]);
      expect(s).toBeDefined();
      expect([...s!.keys()]).toEqual([id]);
      expect(['ok', 'insufficient-data']).toContain(s!.get(id)!.status);
      expect(s!.get(id)!.volumeId).toBe(id);
      expect((await t.cloud.volumes.status([]))?.size).toBe(0);
    });

    it('reports an impaired volume with its details, event and suggested action, and only that one', async () => {
      const sick = await volume('sick');
      const well = await volume('well');
      await t.impair(sick);
      try {
        const s = (await t.cloud.volumes.status([sick, well]))!;
        expect(s.get(sick)).toMatchObject({ volumeId: sick, status: 'impaired' });
        expect(s.get(sick)!.details).toContainEqual({ name: 'io-enabled', status: 'failed' });
        expect(s.get(sick)!.events.map((e) => e.type)).toContain('potential-data-inconsistency');
        expect(s.get(sick)!.actions.map((a) => a.code)).toContain('enable-volume-io');
        expect(s.get(well)!.status).not.toBe('impaired');
      } finally {
        await t.heal(sick);
      }
      expect((await t.cloud.volumes.status([sick]))!.get(sick)!.status).not.toBe('impaired');
    });

    it('answers undefined, not an error, where the endpoint has no status checks', async () => {
      const id = await volume('unchecked');
      expect(await t.withoutChecks.volumes.status([id])).toBeUndefined();
    });
  });
}
