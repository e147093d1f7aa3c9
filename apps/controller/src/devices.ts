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

/**
 * Device-name allocation per instance, held in Redis so that every controller
 * replica agrees on which names are taken.
 */
export class DeviceAllocator {
  private readonly redis: DeviceRedis;

  constructor(redis: Redis, private readonly prefix = 'plinth:devices:') {
    redis.defineCommand('plinthAllocateDevice', { numberOfKeys: 1, lua: ALLOCATE });
    this.redis = redis as DeviceRedis;
  }

  /**
   * `inUse`: device names the instance already has (root disk, other attachments).
   * `limit`: the node's CSI attach limit (its agent's max_volumes_per_node), 0 when unknown.
   */
  async allocate(instanceId: string, volumeId: string, inUse: Iterable<string>, limit = 0): Promise<string> {
    const busy = new Set([...inUse].map(normalise));
    const candidates = NAMES.filter((n) => !busy.has(n));
    const name = await this.redis.plinthAllocateDevice(this.prefix + instanceId, volumeId, Date.now(), limit, ...candidates);
    if (name === '!full') throw resourceExhausted(`node ${instanceId} has all ${limit} volume attachment slots in use; volume ${volumeId} cannot be attached there`);
    if (!name) throw resourceExhausted(`node ${instanceId} has no free device name for volume ${volumeId}`);
    return name;
  }

  /**
   * Drops entries for volumes that are not attached to the instance and were
   * recorded more than `olderThanMs` ago (an attach that failed while its
   * controller died), so they stop counting against the node's slots.
   */
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

  /** Releases the volume's name on the instance (after detach, or a failed attach). */
  async release(instanceId: string, volumeId: string): Promise<void> {
    const all = await this.redis.hgetall(this.prefix + instanceId);
    const mine = Object.entries(all)
      .filter(([, v]) => v.split('|')[0] === volumeId)
      .map(([k]) => k);
    if (mine.length > 0) await this.redis.hdel(this.prefix + instanceId, ...mine);
  }

  /** Names recorded for the instance, name → volume. */
  async held(instanceId: string): Promise<Map<string, string>> {
    const all = await this.redis.hgetall(this.prefix + instanceId);
    return new Map(Object.entries(all).map(([k, v]) => [k, v.split('|')[0] ?? '']));
  }
}

/** EC2 reports device names as given ("/dev/xvdaa") or short ("xvdaa", "sdf"); compare them in one form. */
export function normalise(device: string): string {
  const d = device.startsWith('/dev/') ? device : `/dev/${device}`;
  return d.replace(/^\/dev\/sd/, '/dev/xvd');
}
