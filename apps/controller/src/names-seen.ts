import type { Redis } from 'ioredis';

/**
 * Which CSI names a CreateVolume has already been attempted for. The look-up by CSI-name tag before CreateVolume
 * buys something only when an earlier attempt may have created the volume (a retried or recovered job, or a
 * second request for the name); EC2's ClientToken, which Plinth always sends, covers the rest on real EC2.
 * Skipping it on the first sight of a name saves one DescribeVolumes per volume.
 */
export interface NamesSeen {
  /** True the first time `name` is asked about (and records it); false ever after, until it expires. */
  firstSight(name: string): Promise<boolean>;
}

/** How long a name is remembered: longer than any provisioner keeps retrying one PVC's CreateVolume. */
const REMEMBER_SECONDS = 7 * 24 * 3600;

export class RedisNamesSeen implements NamesSeen {
  constructor(
    private readonly redis: Redis,
    private readonly clusterId: string,
  ) {}

  async firstSight(name: string): Promise<boolean> {
    return (await this.redis.set(`plinth:${this.clusterId}:create-seen:${name}`, '1', 'EX', REMEMBER_SECONDS, 'NX')) === 'OK';
  }
}

export class MemoryNamesSeen implements NamesSeen {
  private readonly seen = new Set<string>();

  firstSight(name: string): Promise<boolean> {
    const first = !this.seen.has(name);
    this.seen.add(name);
    return Promise.resolve(first);
  }
}
