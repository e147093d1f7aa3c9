import {
  Batcher,
  TAG_COPY_OF,
  type Cloud,
  type InstanceInfo,
  type InstanceTypeInfo,
  type SnapshotInfo,
  type VolumeInfo,
  type VolumeModificationInfo,
  type VolumeStatusInfo,
  type ZoneInfo,
} from '@plinth/cloud';
import { isPlinthError } from '@plinth/errors';
import { TtlCache } from './cache.js';

/**
 * Every EC2 read the API makes, through the Cloud (rate limiter, retries) and
 * a short TTL cache that coalesces concurrent requests: however busy the
 * dashboard, each kind of read reaches EC2 at most once per TTL.
 */
export class CloudView {
  private readonly volumesCache: TtlCache<VolumeInfo[]>;
  private readonly zonesCache = new TtlCache<ZoneInfo[]>(60_000);
  private readonly snapshotsCache: TtlCache<SnapshotInfo[]>;
  private readonly instanceCache: TtlCache<InstanceInfo | undefined>;
  private readonly typeCache = new TtlCache<InstanceTypeInfo | undefined>(3_600_000);
  private readonly modsCache: TtlCache<VolumeModificationInfo[] | null>;
  private readonly statusCache: TtlCache<Map<string, VolumeStatusInfo> | undefined>;
  private readonly instances: Batcher<string, InstanceInfo>;
  private readonly copiesCache: TtlCache<Map<string, SnapshotInfo[]>>;

  constructor(
    readonly cloud: Cloud,
    readonly clusterId: string,
    ttlMs: number,
  ) {
    this.volumesCache = new TtlCache(ttlMs);
    this.snapshotsCache = new TtlCache(ttlMs);
    this.instanceCache = new TtlCache(ttlMs);
    this.modsCache = new TtlCache(ttlMs);
    this.copiesCache = new TtlCache(ttlMs);
    this.statusCache = new TtlCache(ttlMs);
    this.instances = new Batcher((ids) => cloud.instances.get(ids), { windowMs: 10, maxBatch: 200 });
  }

  get cacheStats(): { hits: number; misses: number } {
    const all = [
      this.volumesCache,
      this.zonesCache,
      this.snapshotsCache,
      this.instanceCache,
      this.typeCache,
      this.modsCache,
      this.statusCache,
    ] as TtlCache<unknown>[];
    return { hits: all.reduce((n, c) => n + c.hits, 0), misses: all.reduce((n, c) => n + c.misses, 0) };
  }

  /** This cluster's volumes (not deleted). */
  volumes(): Promise<VolumeInfo[]> {
    return this.volumesCache.get('all', async () => (await this.cloud.volumes.list(this.clusterId)).filter((v) => v.state !== 'deleted'));
  }

  async volume(id: string): Promise<VolumeInfo | undefined> {
    return (await this.volumes()).find((v) => v.id === id);
  }

  /**
   * EC2's status checks of this cluster's volumes (DescribeVolumeStatus, one
   * call per 200 volumes), by id; undefined where the endpoint has none
   * (LocalStack, moto).
   */
  statuses(): Promise<Map<string, VolumeStatusInfo> | undefined> {
    return this.statusCache.get('all', async () => this.cloud.volumes.status((await this.volumes()).map((v) => v.id)));
  }

  /** The region's availability zones. */
  zones(): Promise<ZoneInfo[]> {
    return this.zonesCache.get('all', () => this.cloud.zones.list());
  }

  /** Snapshots tagged with this cluster's id. */
  snapshots(): Promise<SnapshotInfo[]> {
    return this.snapshotsCache.get('all', () => this.cloud.snapshots.list(this.clusterId));
  }

  /** The cross-region copies (tag plinth.dev/copy-of) of these snapshots in `region`, by source snapshot: one DescribeSnapshots there. */
  copies(region: string, sourceIds: readonly string[]): Promise<Map<string, SnapshotInfo[]>> {
    const ids = [...new Set(sourceIds)].sort();
    return this.copiesCache.get(`${region}:${ids.join(',')}`, () => this.cloud.inRegion(region).snapshots.findByTag(this.clusterId, TAG_COPY_OF, ids));
  }

  /** An instance by id (look-ups close together share one DescribeInstances). */
  instance(id: string): Promise<InstanceInfo | undefined> {
    return this.instanceCache.get(id, () => this.instances.get(id));
  }

  instanceType(name: string): Promise<InstanceTypeInfo | undefined> {
    return this.typeCache.get(name, async () => (await this.cloud.instances.types([name])).get(name));
  }

  /** The volume's modifications, or null when EC2 (or the emulator) does not answer DescribeVolumesModifications. */
  modifications(volumeId: string): Promise<VolumeModificationInfo[] | null> {
    return this.modsCache.get(volumeId, async () => {
      try {
        return await this.cloud.volumes.modifications(volumeId);
      } catch (err) {
        if (isPlinthError(err) && err.kind === 'Unimplemented') return null;
        throw err;
      }
    });
  }
}
