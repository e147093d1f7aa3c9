import { Batcher, Ec2, VolumeWatcher, type Instance, type Volume } from '@plinth/cloud';
import type { Logger } from '@plinth/logger';
import { nodeKey } from '@plinth/nodes';
import type { Redis } from 'ioredis';

/**
 * The EC2 view the controller's operations share: look-ups arriving close
 * together are coalesced into one Describe call, and every state wait in the
 * process is served by one DescribeVolumes per tick.
 */
export class Cloud {
  readonly volumes: Batcher<string, Volume>;
  private readonly instances: Batcher<string, Instance>;
  private readonly instanceCache = new Map<string, { at: number; value: Instance }>();
  readonly byName: Batcher<string, Volume[]>;
  readonly watcher: VolumeWatcher;

  constructor(
    readonly ec2: Ec2,
    readonly clusterId: string,
    opts: { pollIntervalMs: number; log: Logger; instanceTtlMs?: number },
  ) {
    const batch = { windowMs: 20, maxBatch: 200 };
    this.volumes = new Batcher((ids) => ec2.describeVolumes(ids), batch);
    this.instances = new Batcher((ids) => ec2.describeInstances(ids), batch);
    this.byName = new Batcher((names) => ec2.findVolumesByName(clusterId, names), batch);
    this.watcher = new VolumeWatcher((ids) => ec2.describeVolumes(ids), { intervalMs: opts.pollIntervalMs, log: opts.log });
    this.instanceTtlMs = opts.instanceTtlMs ?? 10_000;
  }

  private readonly instanceTtlMs: number;

  /**
   * An instance, as EC2 described it at most `instanceTtlMs` ago. Instances
   * change slowly and Plinth tracks its own device names in Redis, so a short
   * cache saves one DescribeInstances per ControllerPublish when publishes
   * arrive one by one (as they do under EC2's rate limits).
   */
  async instance(id: string): Promise<Instance | undefined> {
    const hit = this.instanceCache.get(id);
    if (hit && Date.now() - hit.at < this.instanceTtlMs) return hit.value;
    const value = await this.instances.get(id);
    // A miss is not cached: a node that just started must be found at once.
    if (value) this.instanceCache.set(id, { at: Date.now(), value });
    if (this.instanceCache.size > 10_000) this.instanceCache.delete(this.instanceCache.keys().next().value!);
    return value;
  }
}

/** The attachment of `volume` to `instanceId`, if any. */
export function attachmentTo(volume: Volume | undefined, instanceId: string) {
  return volume?.Attachments?.find((a) => a.InstanceId === instanceId && a.State !== 'detached');
}

/** The attach limit the node's agent registered in Redis (its max_volumes_per_node); 0 when it has not registered. */
export async function attachLimitOf(redis: Redis, nodeId: string): Promise<number> {
  const v = Number(await redis.hget(nodeKey(nodeId), 'attachLimit'));
  return Number.isInteger(v) && v > 0 ? v : 0;
}
