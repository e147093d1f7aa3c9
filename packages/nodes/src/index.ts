import type { Redis } from 'ioredis';

/**
 * Node registrations in Redis, written by each node agent and read by the
 * admin API (which lists nodes without Kubernetes).
 *
 * Key schema (all under one prefix, default `plinth`):
 *   `<prefix>:node:<instanceId>`  hash, one per node (fields below), expires
 *                                 `ttlSeconds` after the last heartbeat
 *   `<prefix>:nodes`              sorted set of instance ids, score = last
 *                                 heartbeat in ms since epoch
 * A node whose hash has expired is gone; `listNodes` drops it from the index.
 */
export interface NodeRegistration {
  instanceId: string;
  zone: string;
  instanceType: string;
  /** max_volumes_per_node as reported to kubelet. */
  attachLimit: number;
  driverName: string;
  /** ms since epoch */
  startedAt: number;
  /** ms since epoch */
  heartbeatAt: number;
}

export const DEFAULT_PREFIX = 'plinth';
export const DEFAULT_TTL_SECONDS = 60;

export const nodeKey = (instanceId: string, prefix = DEFAULT_PREFIX): string => `${prefix}:node:${instanceId}`;
export const nodesIndexKey = (prefix = DEFAULT_PREFIX): string => `${prefix}:nodes`;

export interface RegistryOptions {
  prefix?: string;
  ttlSeconds?: number;
}

function toHash(r: NodeRegistration): Record<string, string> {
  return {
    instanceId: r.instanceId,
    zone: r.zone,
    instanceType: r.instanceType,
    attachLimit: String(r.attachLimit),
    driverName: r.driverName,
    startedAt: String(r.startedAt),
    heartbeatAt: String(r.heartbeatAt),
  };
}

/** Parses a stored hash; returns undefined for a missing or malformed entry. */
export function fromHash(h: Record<string, string>): NodeRegistration | undefined {
  const num = (v: string | undefined): number | undefined => {
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const attachLimit = num(h.attachLimit);
  const startedAt = num(h.startedAt);
  const heartbeatAt = num(h.heartbeatAt);
  if (!h.instanceId || attachLimit === undefined || startedAt === undefined || heartbeatAt === undefined) return undefined;
  return {
    instanceId: h.instanceId,
    zone: h.zone ?? '',
    instanceType: h.instanceType ?? '',
    attachLimit,
    driverName: h.driverName ?? '',
    startedAt,
    heartbeatAt,
  };
}

/** Writes (or overwrites) a node's registration and indexes it. */
export async function registerNode(redis: Redis, reg: NodeRegistration, opts: RegistryOptions = {}): Promise<void> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const key = nodeKey(reg.instanceId, prefix);
  await redis
    .multi()
    .del(key)
    .hset(key, toHash(reg))
    .expire(key, opts.ttlSeconds ?? DEFAULT_TTL_SECONDS)
    .zadd(nodesIndexKey(prefix), reg.heartbeatAt, reg.instanceId)
    .exec();
}

/** Refreshes only a registration that still exists, atomically (a heartbeat racing expiry must not leave a half hash). */
const HEARTBEAT_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'heartbeatAt', ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
return 1`;

/**
 * Refreshes a node's heartbeat. Returns false when the registration had
 * already expired (the caller should register again).
 */
export async function heartbeat(redis: Redis, instanceId: string, now = Date.now(), opts: RegistryOptions = {}): Promise<boolean> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const res = await redis.eval(
    HEARTBEAT_LUA,
    2,
    nodeKey(instanceId, prefix),
    nodesIndexKey(prefix),
    String(now),
    String(opts.ttlSeconds ?? DEFAULT_TTL_SECONDS),
    instanceId,
  );
  return res === 1;
}

/** Removes a node's registration (e.g. on a clean shutdown of a node that is going away). */
export async function deregisterNode(redis: Redis, instanceId: string, opts: RegistryOptions = {}): Promise<void> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  await redis.multi().del(nodeKey(instanceId, prefix)).zrem(nodesIndexKey(prefix), instanceId).exec();
}

/** All live registrations, most recent heartbeat first. Expired entries are pruned from the index. */
export async function listNodes(redis: Redis, opts: RegistryOptions = {}): Promise<NodeRegistration[]> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const ids = await redis.zrevrange(nodesIndexKey(prefix), 0, -1);
  if (ids.length === 0) return [];
  const pipe = redis.pipeline();
  for (const id of ids) pipe.hgetall(nodeKey(id, prefix));
  const results = (await pipe.exec()) ?? [];
  const out: NodeRegistration[] = [];
  const gone: string[] = [];
  ids.forEach((id, i) => {
    const [err, value] = results[i] ?? [null, undefined];
    const reg = !err && value ? fromHash(value as Record<string, string>) : undefined;
    if (reg) out.push(reg);
    else gone.push(id);
  });
  if (gone.length > 0) await redis.zrem(nodesIndexKey(prefix), ...gone);
  return out;
}
