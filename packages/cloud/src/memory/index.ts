import type { Attachments, Cloud, Instances, RegionalCloud, Regions, Snapshots, Volumes, Zones } from '../cloud.js';
import type { InstanceInfo, InstanceTypeInfo, VolumeInfo, VolumeStatusInfo } from '../types.js';
import { memorySnapshots } from './snapshots.js';
import { memoryAttachments, memoryVolumes } from './volumes.js';
import { World, type MemoryCloudOptions } from './world.js';

export type { Delays, MemoryCloudOptions } from './world.js';

export interface InstanceSeed {
  id?: string;
  type?: string;
  zone?: string;
  state?: string;
  rootDevice?: string;
  networkInterfaceCount?: number;
  /** Block device mappings besides the root, as RunInstances' BlockDeviceMappings: a new gp3 volume attached at each device. */
  blockDevices?: { device: string; sizeGiB?: number }[];
}

/**
 * EC2 in memory, for unit tests: volumes, attachments, snapshots and
 * modifications move through EC2's states (after `delays`), refusals carry
 * EC2's error codes, and every call goes through the same rate limiter,
 * retries, metrics and error mapping as the real cloud. `fail` and
 * `throttle` inject errors.
 */
export class MemoryCloud implements Cloud {
  private readonly w: World;
  readonly volumes: Volumes;
  readonly attachments: Attachments;
  readonly snapshots: Snapshots;
  readonly instances: Instances;
  readonly zones: Zones;
  readonly regions: Regions;
  readonly region: string;
  /** Every region's EC2 this cloud has been asked about, its own included (snapshot copies go between them). */
  private readonly worlds = new Map<string, { world: World; cloud: RegionalCloud }>();

  constructor(private readonly opts: MemoryCloudOptions = {}) {
    const w = (this.w = new World(opts));
    this.region = w.region;
    this.volumes = memoryVolumes(w);
    this.attachments = memoryAttachments(w);
    this.snapshots = memorySnapshots(w, (r) => this.worlds.get(r)?.world);
    this.worlds.set(w.region, { world: w, cloud: { region: w.region, snapshots: this.snapshots } });
    const regions = opts.regions ?? [...new Set([w.region, 'us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'ap-southeast-2'])];
    this.regions = { list: (signal) => w.call('DescribeRegions', 'regions', signal, () => regions) };
    this.instances = {
      get: (ids, signal) =>
        w.call(
          'DescribeInstances',
          'instances',
          signal,
          () =>
            new Map(
              ids.flatMap((id) =>
                w.instances.get(id)?.state === 'running' || w.instances.get(id)?.state === 'stopped' ? [[id, w.instances.get(id)!] as const] : [],
              ),
            ),
        ),
      types: (names, signal) =>
        w.call('DescribeInstanceTypes', 'instance types', signal, () => new Map(names.flatMap((n) => (w.types.has(n) ? [[n, w.types.get(n)!] as const] : [])))),
    };
    this.zones = {
      list: (_opts, signal) =>
        w.call('DescribeAvailabilityZones', 'availability zones', signal, () =>
          w.zones.map((name, i) => ({ name, id: `${w.region.replace(/-/g, '').slice(0, 4)}-az${i + 1}`, state: 'available', zoneType: 'availability-zone' })),
        ),
    };
  }

  /** Another region's EC2, with its own resources, the same delays, clock and faults settings. */
  inRegion(region: string): RegionalCloud {
    let hit = this.worlds.get(region);
    if (!hit) {
      const world = new World({ ...this.opts, region });
      hit = { world, cloud: { region, snapshots: memorySnapshots(world, (r) => this.worlds.get(r)?.world) } };
      this.worlds.set(region, hit);
    }
    return hit.cloud;
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.zones.list({}, signal);
  }

  close(): void {
    // Nothing held open.
  }

  /** A running instance with its root volume attached at `rootDevice`; its type becomes known too (see addInstanceType). */
  addInstance(seed: InstanceSeed = {}): InstanceInfo {
    const w = this.w;
    const i: InstanceInfo = {
      id: seed.id ?? w.id('i'),
      type: seed.type ?? 'm5.large',
      zone: seed.zone ?? w.zones[0]!,
      state: seed.state ?? 'running',
      rootDevice: seed.rootDevice ?? '/dev/xvda',
      blockDevices: [],
      networkInterfaceCount: seed.networkInterfaceCount ?? 1,
    };
    const mapped = (device: string, sizeGiB: number): VolumeInfo => ({
      id: w.id('vol'),
      sizeGiB,
      type: 'gp3',
      iops: 3000,
      throughput: 125,
      encrypted: false,
      zone: i.zone,
      state: 'in-use',
      tags: {},
      multiAttach: false,
      attachments: [{ instanceId: i.id, device, state: 'attached' }],
    });
    for (const m of [{ device: i.rootDevice!, sizeGiB: 8 }, ...(seed.blockDevices ?? [])]) {
      const v = mapped(m.device, m.sizeGiB ?? 8);
      w.volumes.set(v.id, v);
      i.blockDevices.push({ device: m.device, volumeId: v.id, state: 'attached', deleteOnTermination: true });
    }
    w.instances.set(i.id, i);
    if (!w.types.has(i.type))
      this.addInstanceType({ name: i.type, hypervisor: 'nitro', maxEbsAttachments: 28, attachmentLimitType: 'shared', nvmeInstanceStoreDisks: 0 });
    return structuredClone(i);
  }

  addInstanceType(t: InstanceTypeInfo): void {
    this.w.types.set(t.name, { ...t });
  }

  /** The next `times` calls of `action` ('*': any) fail with EC2 error `code` (HTTP `status`). */
  fail(action: string, code: string, times = 1, status = 400): void {
    this.w.fail(action, code, times, status);
  }

  /** As `fail`, in another region's EC2 (e.g. CopySnapshot refused where the copy is made). */
  failIn(region: string, action: string, code: string, times = 1, status = 400): void {
    this.inRegion(region);
    this.worlds.get(region)!.world.fail(action, code, times, status);
  }

  /** What DescribeVolumeStatus reports for a volume from now on (e.g. `impaired` with io-enabled `failed`); undefined: `ok` again. */
  setVolumeStatus(volumeId: string, status: Omit<VolumeStatusInfo, 'volumeId'> | undefined): void {
    if (status) this.w.volumeStatuses.set(volumeId, { volumeId, ...structuredClone(status) });
    else this.w.volumeStatuses.delete(volumeId);
  }

  /** The next `times` attachments stay `attaching` until detached, as an attachment EC2 never completes. */
  stickAttachments(times = 1): void {
    this.w.stickyAttaches += times;
  }

  /** The next `times` calls of `action` are throttled (RequestLimitExceeded), as EC2 throttles. */
  throttle(times = 1, action = '*'): void {
    this.w.fail(action, 'RequestLimitExceeded', times, 503);
  }
}

export { MemorySnapshotBlocks, type MemorySnapshotSeed } from './blocks.js';
