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
 * a name gets the same one back.
 * KEYS[1] = hash name→volume; ARGV[1] = volume; ARGV[2] = now ms; ARGV[3..] = candidates.
 */
const ALLOCATE = `
local names = redis.call('HGETALL', KEYS[1])
for i = 1, #names, 2 do
  local vol = string.match(names[i + 1], '^([^|]+)')
  if vol == ARGV[1] then return names[i] end
end
for i = 3, #ARGV do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[1] .. '|' .. ARGV[2]) == 1 then return ARGV[i] end
end
return false
`;

type DeviceRedis = Redis & { plinthAllocateDevice(key: string, volumeId: string, now: number, ...candidates: string[]): Promise<string | null> };

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

  /** `inUse`: device names the instance already has (root disk, other attachments). */
  async allocate(instanceId: string, volumeId: string, inUse: Iterable<string>): Promise<string> {
    const busy = new Set([...inUse].map(normalise));
    const candidates = NAMES.filter((n) => !busy.has(n));
    const name = await this.redis.plinthAllocateDevice(this.prefix + instanceId, volumeId, Date.now(), ...candidates);
    if (!name) throw resourceExhausted(`node ${instanceId} has no free device name for volume ${volumeId}`);
    return name;
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
