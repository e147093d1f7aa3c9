import {
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
  DescribeImagesCommand,
  type BlockDeviceMapping,
  type Volume,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { Redis } from 'ioredis';
import type { Stack } from './stack.js';

/** A plain EC2 client on the test stack: the tests' own view of the cloud, independent of Plinth. */
export function ec2Of(stack: Stack): EC2Client {
  return new EC2Client({ region: stack.region, endpoint: stack.ec2Endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

/** Volumes in the cloud carrying a CSI name (and not being deleted). */
export async function volumesNamed(ec2: EC2Client, name: string): Promise<Volume[]> {
  const res = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:CSIVolumeName', Values: [name] }] }));
  return (res.Volumes ?? []).filter((v) => v.State !== 'deleting' && v.State !== 'deleted');
}

export async function volumeById(ec2: EC2Client, id: string): Promise<Volume | undefined> {
  const res = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'volume-id', Values: [id] }] }));
  return res.Volumes?.find((v) => v.VolumeId === id && v.State !== 'deleted');
}

/** Starts one more instance, e.g. a second node, in `zone`; `mappings`: RunInstances' BlockDeviceMappings (volumes pre-attached at launch). */
export async function runInstance(ec2: EC2Client, zone: string, instanceType = 'm5.large', mappings?: BlockDeviceMapping[]): Promise<string> {
  const images = await ec2.send(new DescribeImagesCommand({}));
  const ami = images.Images?.[0]?.ImageId;
  const res = await ec2.send(
    new RunInstancesCommand({
      ImageId: ami,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: instanceType as _InstanceType,
      Placement: { AvailabilityZone: zone },
      BlockDeviceMappings: mappings,
    }),
  );
  const id = res.Instances?.[0]?.InstanceId;
  if (!id) throw new Error('RunInstances returned no instance');
  return id;
}

/** A Redis URL on its own logical database, emptied, so test files do not see each other's queues. */
export async function freshRedis(baseUrl: string, db: number): Promise<string> {
  const url = new URL(baseUrl);
  url.pathname = `/${db}`;
  await flushRedis(url.toString());
  return url.toString();
}

/** Empties the Redis database `url` names (a runner's teardown, or a test's fresh start). */
export async function flushRedis(url: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    await r.flushdb();
  } finally {
    r.disconnect();
  }
}

/** A cluster id no earlier run has used, so volume counts are per test. */
export function uniqueCluster(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}
