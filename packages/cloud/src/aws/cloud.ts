import {
  DescribeAvailabilityZonesCommand,
  DescribeInstanceTypesCommand,
  DescribeRegionsCommand,
  type _InstanceType,
  type CreateVolumeCommandInput,
} from '@aws-sdk/client-ec2';
import type { Cloud, Instances, RegionalCloud, Regions, Volumes, Zones } from '../cloud.js';
import type { Ec2Options } from '../call.js';
import { causeCode } from '../errors.js';
import { TAG_CSI_NAME } from '../tags.js';
import type { InstanceTypeInfo, VolumeCopySpec, VolumeSpec } from '../types.js';
import { createEc2Client, type Ec2Settings } from './client.js';
import { mapValues, tagList, toInstance, toInstanceType, toModification, toStatus, toVolume, toZone } from './convert.js';
import { Ec2 } from './ec2.js';
import { copyVolume, volumesFromSnapshot } from './snapshot-calls.js';
import { awsAttachments, awsSnapshots } from './snapshots.js';
import { VolumeStatuses } from './volume-status.js';

export interface AwsCloudOptions extends Ec2Settings, Ec2Options {
  /** Where the endpoint has no volume status checks, how long before asking again (default 10 min). */
  statusRecheckMs?: number;
}

const named = (tags: Record<string, string>, fallback: string): string => (tags[TAG_CSI_NAME] ? `volume "${tags[TAG_CSI_NAME]}"` : fallback);

function createInput(spec: VolumeSpec | VolumeCopySpec): Omit<CreateVolumeCommandInput, 'AvailabilityZone'> {
  return {
    ...(spec.sizeGiB !== undefined ? { Size: spec.sizeGiB } : {}),
    ...(spec.type !== undefined ? { VolumeType: spec.type as CreateVolumeCommandInput['VolumeType'] } : {}),
    ...(spec.iops !== undefined ? { Iops: spec.iops } : {}),
    ...(spec.throughput !== undefined ? { Throughput: spec.throughput } : {}),
    ...(spec.encrypted !== undefined ? { Encrypted: spec.encrypted } : {}),
    ...(spec.kmsKeyId ? { KmsKeyId: spec.kmsKeyId } : {}),
    ...(spec.multiAttach ? { MultiAttachEnabled: true } : {}),
    ...(spec.clientToken ? { ClientToken: spec.clientToken } : {}),
    TagSpecifications: [{ ResourceType: 'volume', Tags: tagList(spec.tags) }],
  };
}

function awsVolumes(ec2: Ec2, statuses: VolumeStatuses): Volumes {
  return {
    async create(spec, signal) {
      const input = {
        ...createInput(spec),
        AvailabilityZone: spec.zone,
        ...(spec.snapshotId ? { SnapshotId: spec.snapshotId } : {}),
        ...(spec.initializationRate !== undefined ? { VolumeInitializationRate: spec.initializationRate } : {}),
      };
      return toVolume(await ec2.createVolume(input, named(spec.tags, `volume in ${spec.zone}`), signal));
    },
    async copy(spec, signal) {
      const what = `${named(spec.tags, 'copy')} of volume ${spec.sourceVolumeId}`;
      return toVolume(await copyVolume(ec2, { ...createInput(spec), SourceVolumeId: spec.sourceVolumeId }, what, signal));
    },
    get: async (ids, signal) => mapValues(await ec2.describeVolumes([...ids], signal), toVolume),
    findByName: async (clusterId, names, signal) => mapValues(await ec2.findVolumesByName(clusterId, [...names], signal), (vs) => vs.map(toVolume)),
    list: async (clusterId, signal) => (await ec2.listClusterVolumes(clusterId, signal)).map(toVolume),
    fromSnapshot: async (snapshotId, signal) => (await volumesFromSnapshot(ec2, snapshotId, signal)).map(toVolume),
    delete: (id, signal) => ec2.deleteVolume(id, signal),
    async modify(id, change, signal) {
      const m = await ec2.modifyVolume(id, change, signal);
      return m && toModification(m);
    },
    modifications: async (id, signal) => (await ec2.volumeModifications(id, signal)).map(toModification),
    tag: (id, tags, signal) => ec2.createTags(id, tags, signal),
    untag: (id, keys, signal) => ec2.deleteTags(id, keys, signal),
    async status(ids, signal) {
      const found = await statuses.get(ids, signal);
      return found && mapValues(found, toStatus);
    },
  };
}

function awsInstances(ec2: Ec2): Instances {
  const type = async (name: string, signal?: AbortSignal): Promise<InstanceTypeInfo | undefined> => {
    try {
      const res = await ec2.send(
        'DescribeInstanceTypes',
        `instance type ${name}`,
        (s) => ec2.client.send(new DescribeInstanceTypesCommand({ InstanceTypes: [name as _InstanceType] }), { abortSignal: s }),
        signal,
      );
      const t = res.InstanceTypes?.find((x) => x.InstanceType === name);
      return t && toInstanceType(t);
    } catch (err) {
      if (causeCode(err) === 'InvalidInstanceType') return undefined;
      throw err;
    }
  };
  return {
    get: async (ids, signal) => mapValues(await ec2.describeInstances([...ids], signal), toInstance),
    async types(names, signal) {
      const found = await Promise.all([...new Set(names)].map((n) => type(n, signal)));
      return new Map(found.filter((t) => t !== undefined).map((t) => [t.name, t]));
    },
  };
}

function awsZones(ec2: Ec2): Zones {
  return {
    async list(opts = {}, signal) {
      const input = opts.all ? { AllAvailabilityZones: true } : {};
      const res = await ec2.send(
        'DescribeAvailabilityZones',
        'availability zones',
        (s) => ec2.client.send(new DescribeAvailabilityZonesCommand(input), { abortSignal: s }),
        signal,
      );
      return (res.AvailabilityZones ?? []).map(toZone);
    },
  };
}

function awsRegions(ec2: Ec2): Regions {
  return {
    async list(signal) {
      const res = await ec2.send('DescribeRegions', 'regions', (s) => ec2.client.send(new DescribeRegionsCommand({}), { abortSignal: s }), signal);
      return (res.Regions ?? []).map((r) => r.RegionName ?? '').filter(Boolean);
    },
  };
}

/** The real Cloud: EC2 through the Ec2 adapter (shared rate limiter, retries, metrics, error mapping). */
export function createAwsCloud(opts: AwsCloudOptions): Cloud {
  const ec2 = new Ec2(createEc2Client(opts), opts);
  const statuses = new VolumeStatuses(ec2, opts.statusRecheckMs);
  // One client per other region, made when first needed (the same endpoint setting: LocalStack serves every region on one).
  const others = new Map<string, { cloud: RegionalCloud; ec2: Ec2 }>();
  const inRegion = (region: string): RegionalCloud => {
    if (region === opts.region) return { region, snapshots: awsSnapshots(ec2) };
    let hit = others.get(region);
    if (!hit) {
      const there = new Ec2(createEc2Client({ ...opts, region }), opts);
      hit = { cloud: { region, snapshots: awsSnapshots(there) }, ec2: there };
      others.set(region, hit);
    }
    return hit.cloud;
  };
  return {
    region: opts.region,
    regions: awsRegions(ec2),
    inRegion,
    volumes: awsVolumes(ec2, statuses),
    attachments: awsAttachments(ec2),
    snapshots: awsSnapshots(ec2),
    instances: awsInstances(ec2),
    zones: awsZones(ec2),
    ping: (signal) => ec2.ping(signal),
    close: () => {
      ec2.client.destroy();
      for (const o of others.values()) o.ec2.client.destroy();
    },
  };
}
