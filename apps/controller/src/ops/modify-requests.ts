import { aborted, fromSerialized, type SerializedError } from '@plinth/errors';
import type { Operations } from '@plinth/queue';
import type { Redis } from 'ioredis';
import type { VolumeType } from '../params/volume-types.js';
import { modifyVolumeOperation } from './modify-volume.js';

/** What one RPC asks of a volume: a size to grow to, a type, IOPS, throughput, tags to add or overwrite. */
export interface VolumeChange {
  sizeGiB?: number | undefined;
  type?: VolumeType | undefined;
  iops?: number | undefined;
  throughput?: number | undefined;
  tags?: Record<string, string> | undefined;
  /** Tag keys to delete (VolumeAttributesClass tagDeletion_N). */
  deleteTags?: string[] | undefined;
}

/** A volume as EC2 describes it after the modify job (the job's result). */
export interface VolumeState {
  sizeGiB: number;
  type: string;
  iops?: number | undefined;
  throughput?: number | undefined;
  tags: Record<string, string>;
  /** A type/IOPS/throughput request the job refused (EC2's limits at the volume's size) while it applied the rest, and why. */
  refused?: { change: VolumeChange; error: SerializedError } | undefined;
}

/** Whether `change` is the type/IOPS/throughput request the job refused. */
export function wasRefused(state: VolumeState, change: VolumeChange): boolean {
  const r = state.refused?.change;
  if (!r) return false;
  const fields = (['type', 'iops', 'throughput'] as const).filter((f) => change[f] !== undefined);
  return fields.length > 0 && fields.every((f) => r[f] === change[f]);
}

/** Whether `state` has everything `change` asks for (a larger size counts). */
export function satisfies(state: VolumeState, change: VolumeChange): boolean {
  if (change.sizeGiB !== undefined && state.sizeGiB < change.sizeGiB) return false;
  if (change.type !== undefined && state.type !== change.type) return false;
  if (change.iops !== undefined && state.iops !== change.iops) return false;
  if (change.throughput !== undefined && state.throughput !== change.throughput) return false;
  return Object.entries(change.tags ?? {}).every(([k, v]) => state.tags[k] === v) && (change.deleteTags ?? []).every((k) => !(k in state.tags));
}

/** A change as hash fields: size, type, iops, throughput, tag:<key>. */
function toFields(change: VolumeChange): [string, string][] {
  const out: [string, string][] = [];
  if (change.sizeGiB !== undefined) out.push(['size', String(change.sizeGiB)]);
  if (change.type !== undefined) out.push(['type', change.type]);
  if (change.iops !== undefined) out.push(['iops', String(change.iops)]);
  if (change.throughput !== undefined) out.push(['throughput', String(change.throughput)]);
  for (const [k, v] of Object.entries(change.tags ?? {})) out.push([`tag:${k}`, v]);
  for (const k of change.deleteTags ?? []) out.push([`untag:${k}`, '1']);
  return out;
}

function fromFields(fields: Record<string, string>): VolumeChange {
  const change: VolumeChange = {};
  const tags: Record<string, string> = {};
  for (const [f, v] of Object.entries(fields)) {
    if (f === 'size') change.sizeGiB = Number(v);
    else if (f === 'type') change.type = v as VolumeType;
    else if (f === 'iops') change.iops = Number(v);
    else if (f === 'throughput') change.throughput = Number(v);
    else if (f.startsWith('tag:')) tags[f.slice(4)] = v;
    else if (f.startsWith('untag:')) (change.deleteTags ??= []).push(f.slice(6));
  }
  if (Object.keys(tags).length > 0) change.tags = tags;
  return change;
}

/** Requests nobody applies (their job refused, or every attempt failed) are forgotten after this long. */
const TTL_SECONDS = 3600;

/** KEYS[1] = the volume's hash; ARGV = field, value, …: size only grows, every other field is overwritten. */
const RECORD = `
for i = 1, #ARGV - 1, 2 do
  local f, v = ARGV[i], ARGV[i + 1]
  if f ~= 'size' or tonumber(v) > tonumber(redis.call('HGET', KEYS[1], 'size') or '0') then
    redis.call('HSET', KEYS[1], f, v)
  end
end
redis.call('EXPIRE', KEYS[1], ${TTL_SECONDS})
return 1
`;

/** KEYS[1] = the volume's hash; ARGV = field, value, …: deletes each field still holding the value read. */
const FORGET = `
local n = 0
for i = 1, #ARGV - 1, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then n = n + redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return n
`;

type RequestsRedis = Redis & {
  plinthModifyRecord(key: string, ...fieldValues: string[]): Promise<number>;
  plinthModifyForget(key: string, ...fieldValues: string[]): Promise<number>;
};

/**
 * The changes ControllerModifyVolume and ControllerExpandVolume ask of each
 * volume, merged in one Redis hash per volume until a modify job applies
 * them. Every replica sees the same hash, so requests that reach different
 * replicas within the coalescing window still become one ModifyVolume.
 */
export class ModifyRequests {
  private readonly redis: RequestsRedis;

  constructor(
    redis: Redis,
    private readonly prefix = 'plinth:modify:',
  ) {
    redis.defineCommand('plinthModifyRecord', { numberOfKeys: 1, lua: RECORD });
    redis.defineCommand('plinthModifyForget', { numberOfKeys: 1, lua: FORGET });
    this.redis = redis as RequestsRedis;
  }

  async record(volumeId: string, change: VolumeChange): Promise<void> {
    const fields = toFields(change).flat();
    if (fields.length > 0) await this.redis.plinthModifyRecord(this.prefix + volumeId, ...fields);
  }

  /** Everything requested of the volume, merged, and the raw fields (to forget exactly what was read). */
  async read(volumeId: string): Promise<{ change: VolumeChange; fields: Record<string, string> }> {
    const fields = await this.redis.hgetall(this.prefix + volumeId);
    return { change: fromFields(fields), fields };
  }

  /** Forgets what was read, unless another request has changed a field since. */
  async forget(volumeId: string, fields: Record<string, string>): Promise<void> {
    const flat = Object.entries(fields).flat();
    if (flat.length > 0) await this.redis.plinthModifyForget(this.prefix + volumeId, ...flat);
  }

  /** Whether the hash still asks for at least `change` (no request for something else has replaced it). */
  async stillRequested(volumeId: string, change: VolumeChange): Promise<boolean> {
    const now = fromFields(await this.redis.hgetall(this.prefix + volumeId));
    const tags = { ...now.tags };
    // A deletion still requested: the key counts as absent.
    for (const k of change.deleteTags ?? []) if (!now.deleteTags?.includes(k)) tags[k] = '';
    return satisfies({ sizeGiB: now.sizeGiB ?? 0, type: now.type ?? '', iops: now.iops, throughput: now.throughput, tags }, change);
  }
}

/** Rounds one RPC may take part in before it gives up (a job it joined had already read the requests). */
const MAX_ROUNDS = 5;

/**
 * Records `change` for the volume and runs the volume's modify job, which
 * waits `windowMs` for other requests before it reads them all and issues one
 * ModifyVolume. Answers once the volume has `change`: if the RPC joined a job
 * that had already read the requests, it runs the next one. The job's
 * refusal of this very change is this call's error; ABORTED when another
 * request asked for something else in the meantime.
 */
export async function requestChange(
  deps: { ops: Operations; modifyRequests: ModifyRequests },
  volumeId: string,
  change: VolumeChange,
  deadline: number,
  windowMs: number,
): Promise<VolumeState> {
  for (let round = 1; ; round++) {
    await deps.modifyRequests.record(volumeId, change);
    const state = await deps.ops.run(modifyVolumeOperation, { volumeId }, deadline, { delayMs: windowMs });
    if (satisfies(state, change)) return state;
    if (wasRefused(state, change)) throw fromSerialized(state.refused!.error);
    if (!(await deps.modifyRequests.stillRequested(volumeId, change)))
      throw aborted(`volume ${volumeId}: another modification asking for something else arrived at the same time; retry`);
    if (round >= MAX_ROUNDS) throw aborted(`volume ${volumeId}: other modifications kept arriving; this one is not applied yet, retry`);
  }
}
