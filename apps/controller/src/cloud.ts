import {
  Batcher,
  ownershipTags,
  VolumeWatcher,
  type AttachmentInfo,
  type Tags,
  type Cloud as CloudApi,
  type InstanceInfo,
  type VolumeInfo,
} from '@plinth/cloud';
import type { Logger } from '@plinth/logger';
import { nodeKey } from '@plinth/nodes';
import type { Redis } from 'ioredis';

/**
 * The cloud as the controller's operations share it: `api` is @plinth/cloud's
 * Cloud; look-ups arriving close together are coalesced into one Describe
 * call, and every state wait in the process is served by one DescribeVolumes
 * per tick.
 */
export class Cloud {
  readonly volumes: Batcher<string, VolumeInfo>;
  private readonly instances: Batcher<string, InstanceInfo>;
  private readonly instanceCache = new Map<string, { at: number; value: InstanceInfo }>();
  readonly byName: Batcher<string, VolumeInfo[]>;
  readonly watcher: VolumeWatcher;
  private readonly instanceTtlMs: number;
  /** aws-ebs-csi-driver's k8s-tag-cluster-id (K8S_TAG_CLUSTER_ID): adds its cluster ownership tags. */
  private readonly k8sClusterId: string | undefined;
  /** Cluster-wide tags for every volume and snapshot (EXTRA_TAGS); a class's own tags win. */
  readonly extraTags: Tags;

  constructor(
    readonly api: CloudApi,
    readonly clusterId: string,
    opts: { pollIntervalMs: number; log: Logger; instanceTtlMs?: number; k8sClusterId?: string | undefined; extraTags?: Tags | undefined },
  ) {
    this.k8sClusterId = opts.k8sClusterId;
    this.extraTags = opts.extraTags ?? {};
    const batch = { windowMs: 20, maxBatch: 200 };
    const described = async (ids: string[]) => this.rememberAll(await api.volumes.get(ids));
    this.volumes = new Batcher(described, batch);
    this.instances = new Batcher((ids) => api.instances.get(ids), batch);
    this.byName = new Batcher((names) => api.volumes.findByName(clusterId, names), batch);
    this.watcher = new VolumeWatcher(described, { intervalMs: opts.pollIntervalMs, log: opts.log });
    this.instanceTtlMs = opts.instanceTtlMs ?? 10_000;
  }

  private readonly answered = new Map<string, { at: number; value: VolumeInfo }>();

  /** Keeps EC2's latest answer about a volume (CreateVolume's, or a describe's), for `recent`. */
  remember(v: VolumeInfo): VolumeInfo {
    this.answered.delete(v.id);
    this.answered.set(v.id, { at: Date.now(), value: v });
    if (this.answered.size > 10_000) this.answered.delete(this.answered.keys().next().value!);
    return v;
  }

  private rememberAll(found: Map<string, VolumeInfo>): Map<string, VolumeInfo> {
    for (const v of found.values()) this.remember(v);
    return found;
  }

  /**
   * The volume as EC2 last answered about it in this process, at most `maxAgeMs` ago, without asking EC2 again.
   * For facts that do not change under a running operation (zone, type, multi-attach); attachment state may be
   * stale, so a caller acts on it only where EC2 itself refuses a wrong step (AttachVolume answers VolumeInUse).
   */
  recent(id: string, maxAgeMs: number): VolumeInfo | undefined {
    const hit = this.answered.get(id);
    return hit && Date.now() - hit.at <= maxAgeMs ? hit.value : undefined;
  }

  /** The ownership tags of a new volume or snapshot (Plinth's cluster tag and aws-ebs-csi-driver's). */
  ownerTags(kind: 'volume' | 'snapshot', name: string): Tags {
    return ownershipTags(kind, name, this.clusterId, this.k8sClusterId);
  }

  /**
   * An instance, as EC2 described it at most `instanceTtlMs` ago. Instances
   * change slowly and Plinth tracks its own device names in Redis, so a short
   * cache saves one DescribeInstances per ControllerPublish when publishes
   * arrive one by one (as they do under EC2's rate limits).
   */
  async instance(id: string): Promise<InstanceInfo | undefined> {
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
export function attachmentTo(volume: VolumeInfo | undefined, instanceId: string): AttachmentInfo | undefined {
  return volume?.attachments.find((a) => a.instanceId === instanceId && a.state !== 'detached');
}

/** The attach limit the node's agent registered in Redis (its max_volumes_per_node); 0 when it has not registered. */
export async function attachLimitOf(redis: Redis, nodeId: string): Promise<number> {
  const v = Number(await redis.hget(nodeKey(nodeId), 'attachLimit'));
  return Number.isInteger(v) && v > 0 ? v : 0;
}
