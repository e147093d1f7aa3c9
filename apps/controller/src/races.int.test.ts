import { status } from '@grpc/grpc-js';
import { callUnary, type CreateVolumeRequest } from '@plinth/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../../test/fault-proxy/proxy.js';
import { AWS_LIKE_DELAYS } from '../../../test/fault-proxy/transitions.js';
import { startController, testControllerEnv, type ControllerProcess } from '../../../test/support/controller.js';
import { codeOf, createReq, GiB } from '../../../test/support/csi.js';
import { ec2Of, freshRedis, uniqueCluster, volumesNamed } from '../../../test/support/ec2.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';

// Two CreateVolume calls with one name and different requests, fired together:
// whichever runs first makes the volume, and the other must not be told OK
// with a volume that is not what it asked for.
const ROUNDS = 50;

let stack: Stack;
let proxy: FaultProxy;
let ctl: ControllerProcess;
let cluster: string;
const made = new Set<string>();

beforeAll(async () => {
  stack = requireStack();
  // Volumes stay `creating` for a while, as on EC2, so the second call arrives while the first job is in flight.
  proxy = await startFaultProxy(stack.ec2Endpoint, { transitions: AWS_LIKE_DELAYS });
  cluster = uniqueCluster('races');
  ctl = await startController(
    testControllerEnv({ redisUrl: await freshRedis(stack.redisUrl, 7), region: stack.region, zone: stack.zone, ec2Endpoint: proxy.endpoint, cluster }),
  );
});

afterAll(async () => {
  for (const volumeId of made) await callUnary(ctl.controller, 'deleteVolume', { volumeId, secrets: {} }, { timeoutMs: 60_000 }).catch(() => undefined);
  await ctl?.stop();
  await proxy?.close();
});

interface Want {
  requiredBytes: number;
  type: string;
  encrypted: boolean;
}

function request(name: string, want: Partial<Want>): CreateVolumeRequest {
  const parameters: Record<string, string> = { type: want.type ?? 'gp3' };
  if (want.type === 'io2') parameters.iops = '1000';
  if (want.encrypted) parameters.encrypted = 'true';
  return createReq(name, { capacityRange: { requiredBytes: want.requiredBytes ?? 4 * GiB, limitBytes: 0 }, parameters });
}

/** Fires each pair together, ROUNDS times (all rounds at once), and judges every answer against EC2. */
async function race(label: string, a: Partial<Want>, b: Partial<Want>) {
  const rounds = await Promise.all(
    Array.from({ length: ROUNDS }, async (_, i) => {
      const name = `race-${label}-${cluster}-${i}`;
      const answers = await Promise.all(
        [a, b].map(async (want) => {
          const call = callUnary(ctl.controller, 'createVolume', request(name, want), { timeoutMs: 110_000 });
          const res = await call.catch(() => undefined);
          if (!res?.volume) return { want, ok: false as const, ...(await codeOf(call)) };
          made.add(res.volume.volumeId);
          return { want, ok: true as const, volumeId: res.volume.volumeId };
        }),
      );
      return { name, answers };
    }),
  );
  const wrong: string[] = [];
  let refused = 0;
  for (const { name, answers } of rounds) {
    const volumes = (await volumesNamed(ec2Of(stack), name)).filter((v) => v.State !== 'deleting' && v.State !== 'deleted');
    if (volumes.length !== 1) wrong.push(`${name}: ${volumes.length} volumes in EC2`);
    const oks = answers.filter((x) => x.ok);
    if (oks.length === 0) wrong.push(`${name}: no caller told OK`);
    for (const x of answers) {
      if (!x.ok) {
        if (x.code !== Number(status.ALREADY_EXISTS)) wrong.push(`${name}: code ${x.code} (${x.details})`);
        else refused++;
        continue;
      }
      const v = volumes.find((vol) => vol.VolumeId === x.volumeId);
      const want = { requiredBytes: 4 * GiB, type: 'gp3', encrypted: false, ...x.want };
      if (!v) wrong.push(`${name}: told ${x.volumeId}, which EC2 does not list`);
      else if ((v.Size ?? 0) * GiB < want.requiredBytes || v.VolumeType !== want.type || Boolean(v.Encrypted) !== want.encrypted)
        wrong.push(`${name}: asked ${JSON.stringify(want)}, got ${v.Size} GiB ${v.VolumeType} encrypted=${v.Encrypted}`);
    }
  }
  return { wrong, refused, rounds };
}

describe('concurrent CreateVolume with one name and different requests (real Redis, LocalStack)', () => {
  // An 8 GiB volume satisfies the 4 GiB caller too (no limit_bytes), so both may be told OK; a 4 GiB one must not be handed to the 8 GiB caller.
  it(`4 GiB and 8 GiB together, ${ROUNDS} times: 0 wrong answers; a refused caller is told the size`, async () => {
    const { wrong, rounds } = await race('size', { requiredBytes: 4 * GiB }, { requiredBytes: 8 * GiB });
    expect(wrong).toEqual([]);
    const messages = rounds.flatMap((r) => r.answers).flatMap((x) => (x.ok ? [] : [x.details]));
    for (const m of messages) expect(m).toMatch(/size|capacity/);
  });

  it(`gp3 and io2 together, ${ROUNDS} times: 0 wrong answers`, async () => {
    const { wrong, refused } = await race('type', { type: 'gp3' }, { type: 'io2' });
    expect(wrong).toEqual([]);
    expect(refused).toBe(ROUNDS);
  });

  it(`plain and encrypted together, ${ROUNDS} times: 0 wrong answers, and encryption asked for is never answered with an unencrypted volume`, async () => {
    const { wrong, refused, rounds } = await race('encryption', { encrypted: false }, { encrypted: true });
    expect(wrong).toEqual([]);
    expect(refused).toBe(ROUNDS);
    const encryptedOks = rounds.flatMap((r) => r.answers).filter((x) => x.ok && x.want.encrypted);
    for (const x of encryptedOks) {
      const [v] = await volumesNamed(ec2Of(stack), rounds.find((r) => r.answers.includes(x))!.name);
      expect(v?.Encrypted).toBe(true);
    }
  });
});
