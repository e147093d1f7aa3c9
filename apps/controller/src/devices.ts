import type { Redis } from 'ioredis';
import { resourceExhausted } from '@plinth/errors';

/** Device names Plinth hands out per instance: /dev/xvdaa, /dev/xvdab, … /dev/xvdzz. */
export function deviceNames(): string[] {
  const out: string[] = [];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (const a of letters) for (const b of letters) out.push(`/dev/xvd${a}${b}`);
  return out;
}

const NAMES = deviceNames();

/**
 * Atomically picks the first name that is neither taken in Redis nor in use
 * on the instance, and records it for the volume. A volume that already holds
 * a name gets the same one back. The hash holds one entry per volume Plinth
 * has attached (or is attaching) to the instance, so its size is the number of
 * slots in use: at `limit` (0 = none), nothing more is handed out.
 * KEYS[1] = hash name→"volume|ms"; ARGV[1] = volume; ARGV[2] = now ms; ARGV[3] = limit; ARGV[4..] = candidates.
 */
const ALLOCATE = `
local names = redis.call('HGETALL', KEYS[1])
for i = 1, #names, 2 do
  local vol = string.match(names[i + 1], '^([^|]+)')
  if vol == ARGV[1] then return names[i] end
end
local limit = tonumber(ARGV[3])
if limit > 0 and #names / 2 >= limit then return '!full' end
for i = 4, #ARGV do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[1] .. '|' .. ARGV[2]) == 1 then return ARGV[i] end
end
return false
`;

type DeviceRedis = Redis & { plinthAllocateDevice(key: string, volumeId: string, now: number, limit: number, ...candidates: string[]): Promise<string | null> };

/** Device-name allocation per instance: what ControllerPublish and Unpublish need of it. */
export interface DeviceNames {
  /**
   * The volume's name on the instance: the one it holds already, else the
   * first free name not in `inUse` (names the instance already has: root
   * disk, other attachments). `limit`: the node's CSI attach limit (its
   * agent's max_volumes_per_node), 0 when unknown; RESOURCE_EXHAUSTED at it.
   */
  allocate(instanceId: string, volumeId: string, inUse: Iterable<string>, limit?: number): Promise<string>;
  /**
   * Drops entries for volumes that are not attached to the instance and were
   * recorded more than `olderThanMs` ago (an attach that failed while its
   * controller died), so they stop counting against the node's slots.
   */
  reclaim(instanceId: string, attachedVolumeIds: ReadonlySet<string>, olderThanMs: number, now?: number): Promise<number>;
  /** Releases the volume's name on the instance (after detach, or a failed attach). */
  release(instanceId: string, volumeId: string): Promise<void>;
  /** Names recorded for the instance, name → volume. */
  held(instanceId: string): Promise<Map<string, string>>;
}

const full = (instanceId: string, volumeId: string, limit: number) =>
  resourceExhausted(`node ${instanceId} has all ${limit} volume attachment slots in use; volume ${volumeId} cannot be attached there`);
const noName = (instanceId: string, volumeId: string) => resourceExhausted(`node ${instanceId} has no free device name for volume ${volumeId}`);

/**
 * Device-name allocation per instance, held in Redis so that every controller
 * replica agrees on which names are taken.
 */
export class DeviceAllocator implements DeviceNames {
  private readonly redis: DeviceRedis;

  constructor(
    redis: Redis,
    private readonly prefix = 'plinth:devices:',
  ) {
    redis.defineCommand('plinthAllocateDevice', { numberOfKeys: 1, lua: ALLOCATE });
    this.redis = redis as DeviceRedis;
  }

  async allocate(instanceId: string, volumeId: string, inUse: Iterable<string>, limit = 0): Promise<string> {
    const busy = new Set([...inUse].map(normalise));
    const candidates = NAMES.filter((n) => !busy.has(n));
    const name = await this.redis.plinthAllocateDevice(this.prefix + instanceId, volumeId, Date.now(), limit, ...candidates);
    if (name === '!full') throw full(instanceId, volumeId, limit);
    if (!name) throw noName(instanceId, volumeId);
    return name;
  }

  async reclaim(instanceId: string, attachedVolumeIds: ReadonlySet<string>, olderThanMs: number, now = Date.now()): Promise<number> {
    const all = await this.redis.hgetall(this.prefix + instanceId);
    const stale = Object.entries(all)
      .filter(([, v]) => {
        const [vol, ms] = v.split('|');
        return vol !== undefined && !attachedVolumeIds.has(vol) && now - Number(ms) > olderThanMs;
      })
      .map(([k]) => k);
    if (stale.length > 0) await this.redis.hdel(this.prefix + instanceId, ...stale);
    return stale.length;
  }

  async release(instanceId: string, volumeId: string): Promise<void> {
    const all = await this.redis.hgetall(this.prefix + instanceId);
    const mine = Object.entries(all)
      .filter(([, v]) => v.split('|')[0] === volumeId)
      .map(([k]) => k);
    if (mine.length > 0) await this.redis.hdel(this.prefix + instanceId, ...mine);
  }

  async held(instanceId: string): Promise<Map<string, string>> {
    const all = await this.redis.hgetall(this.prefix + instanceId);
    return new Map(Object.entries(all).map(([k, v]) => [k, v.split('|')[0] ?? '']));
  }
}

/** The same allocation in memory, for unit tests of the operations (held to DeviceAllocator by devices-contract.ts). */
export class MemoryDeviceNames implements DeviceNames {
  private readonly byInstance = new Map<string, Map<string, { volumeId: string; at: number }>>();

  private names(instanceId: string): Map<string, { volumeId: string; at: number }> {
    let m = this.byInstance.get(instanceId);
    if (!m) this.byInstance.set(instanceId, (m = new Map<string, { volumeId: string; at: number }>()));
    return m;
  }

  allocate(instanceId: string, volumeId: string, inUse: Iterable<string>, limit = 0): Promise<string> {
    const names = this.names(instanceId);
    for (const [name, e] of names) if (e.volumeId === volumeId) return Promise.resolve(name);
    if (limit > 0 && names.size >= limit) return Promise.reject(full(instanceId, volumeId, limit));
    const busy = new Set([...inUse].map(normalise));
    const name = NAMES.find((n) => !busy.has(n) && !names.has(n));
    if (!name) return Promise.reject(noName(instanceId, volumeId));
    names.set(name, { volumeId, at: Date.now() });
    return Promise.resolve(name);
  }

  reclaim(instanceId: string, attachedVolumeIds: ReadonlySet<string>, olderThanMs: number, now = Date.now()): Promise<number> {
    const names = this.names(instanceId);
    const stale = [...names].filter(([, e]) => !attachedVolumeIds.has(e.volumeId) && now - e.at > olderThanMs).map(([n]) => n);
    for (const n of stale) names.delete(n);
    return Promise.resolve(stale.length);
  }

  release(instanceId: string, volumeId: string): Promise<void> {
    const names = this.names(instanceId);
    for (const [n, e] of names) if (e.volumeId === volumeId) names.delete(n);
    return Promise.resolve();
  }

  held(instanceId: string): Promise<Map<string, string>> {
    return Promise.resolve(new Map([...this.names(instanceId)].map(([n, e]) => [n, e.volumeId])));
  }
}

/** EC2 reports device names as given ("/dev/xvdaa") or short ("xvdaa", "sdf"); compare them in one form. */
export function normalise(device: string): string {
  const d = device.startsWith('/dev/') ? device : `/dev/${device}`;
  return d.replace(/^\/dev\/sd/, '/dev/xvd');
}
