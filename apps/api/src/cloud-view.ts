import {
  DescribeAvailabilityZonesCommand,
  DescribeInstanceTypesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesModificationsCommand,
  type _InstanceType,
  type AvailabilityZone,
  type InstanceTypeInfo,
  type Snapshot,
  type VolumeModification,
} from '@aws-sdk/client-ec2';
import { Batcher, causeCode, TAG_CLUSTER, type Ec2, type Instance, type Volume } from '@plinth/cloud';
import { TtlCache } from './cache.js';

/**
 * Every EC2 read the API makes, through the shared Ec2 adapter (rate limiter,
 * retries) and a short TTL cache that coalesces concurrent requests: however
 * busy the dashboard, each kind of read reaches EC2 at most once per TTL.
 */
export class CloudView {
  private readonly volumesCache: TtlCache<Volume[]>;
  private readonly zonesCache = new TtlCache<AvailabilityZone[]>(60_000);
  private readonly snapshotsCache: TtlCache<Snapshot[]>;
  private readonly instanceCache: TtlCache<Instance | undefined>;
  private readonly typeCache = new TtlCache<InstanceTypeInfo | undefined>(3_600_000);
  private readonly modsCache: TtlCache<VolumeModification[] | null>;
  private readonly instances: Batcher<string, Instance>;

  constructor(
    readonly ec2: Ec2,
    readonly clusterId: string,
    ttlMs: number,
  ) {
    this.volumesCache = new TtlCache(ttlMs);
    this.snapshotsCache = new TtlCache(ttlMs);
    this.instanceCache = new TtlCache(ttlMs);
    this.modsCache = new TtlCache(ttlMs);
    this.instances = new Batcher((ids) => ec2.describeInstances(ids), { windowMs: 10, maxBatch: 200 });
  }

  get cacheStats(): { hits: number; misses: number } {
    const all = [this.volumesCache, this.zonesCache, this.snapshotsCache, this.instanceCache, this.typeCache, this.modsCache] as TtlCache<unknown>[];
    return { hits: all.reduce((n, c) => n + c.hits, 0), misses: all.reduce((n, c) => n + c.misses, 0) };
  }

  /** This cluster's volumes (not deleted). */
  volumes(): Promise<Volume[]> {
    return this.volumesCache.get('all', async () => (await this.ec2.listClusterVolumes(this.clusterId)).filter((v) => v.State !== 'deleted'));
  }

  async volume(id: string): Promise<Volume | undefined> {
    return (await this.volumes()).find((v) => v.VolumeId === id);
  }

  /** The region's availability zones. */
  zones(): Promise<AvailabilityZone[]> {
    return this.zonesCache.get('all', async () => {
      const res = await this.ec2.send('DescribeAvailabilityZones', 'availability zones', (s) => this.ec2.client.send(new DescribeAvailabilityZonesCommand({}), { abortSignal: s }));
      return res.AvailabilityZones ?? [];
    });
  }

  /** Snapshots tagged with this cluster's id. */
  snapshots(): Promise<Snapshot[]> {
    return this.snapshotsCache.get('all', async () => {
      const out: Snapshot[] = [];
      let token: string | undefined;
      do {
        const res = await this.ec2.send('DescribeSnapshots', `snapshots of cluster ${this.clusterId}`, (s) =>
          this.ec2.client.send(new DescribeSnapshotsCommand({ Filters: [{ Name: `tag:${TAG_CLUSTER}`, Values: [this.clusterId] }], ...(token ? { NextToken: token } : {}) }), { abortSignal: s }),
        );
        out.push(...(res.Snapshots ?? []));
        token = res.NextToken;
      } while (token);
      return out;
    });
  }

  /** An instance by id (look-ups close together share one DescribeInstances). */
  instance(id: string): Promise<Instance | undefined> {
    return this.instanceCache.get(id, () => this.instances.get(id));
  }

  instanceType(name: string): Promise<InstanceTypeInfo | undefined> {
    return this.typeCache.get(name, async () => {
      try {
        const res = await this.ec2.send('DescribeInstanceTypes', `instance type ${name}`, (s) =>
          this.ec2.client.send(new DescribeInstanceTypesCommand({ InstanceTypes: [name as _InstanceType] }), { abortSignal: s }),
        );
        return res.InstanceTypes?.[0];
      } catch (err) {
        if (causeCode(err) === 'InvalidInstanceType') return undefined;
        throw err;
      }
    });
  }

  /** The volume's modifications, or null when EC2 (or the emulator) does not answer DescribeVolumesModifications. */
  modifications(volumeId: string): Promise<VolumeModification[] | null> {
    return this.modsCache.get(volumeId, async () => {
      try {
        const res = await this.ec2.send('DescribeVolumesModifications', `modifications of volume ${volumeId}`, (s) =>
          this.ec2.client.send(new DescribeVolumesModificationsCommand({ Filters: [{ Name: 'volume-id', Values: [volumeId] }] }), { abortSignal: s }),
        );
        return res.VolumesModifications ?? [];
      } catch (err) {
        const code = causeCode(err);
        if (code === 'InvalidAction' || code === 'NotImplemented' || code === 'InvalidVolumeModification.NotFound') return code === 'InvalidVolumeModification.NotFound' ? [] : null;
        throw err;
      }
    });
  }
}
