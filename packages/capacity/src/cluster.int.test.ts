import { CreateVolumeCommand, DeleteVolumeCommand } from '@aws-sdk/client-ec2';
import { createAwsCloud, TAG_CLUSTER } from '@plinth/cloud';
import { createLogger } from '@plinth/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Of, uniqueCluster } from '../../../test/support/ec2.js';
import { requireStack, type Stack } from '../../../test/support/stack.js';
import { clusterCapacity } from './index.js';

let stack: Stack;
let cluster: string;
const ids: string[] = [];

beforeAll(async () => {
  stack = requireStack();
  cluster = uniqueCluster('capacity');
  const ec2 = ec2Of(stack);
  const tags = (c: string) => [{ ResourceType: 'volume' as const, Tags: [{ Key: TAG_CLUSTER, Value: c }] }];
  for (const [size, type, c] of [
    [3, 'gp3', cluster],
    [5, 'gp3', cluster],
    [125, 'st1', cluster],
    [7, 'gp3', `${cluster}-other`],
  ] as const) {
    const v = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: stack.zone, Size: size, VolumeType: type, TagSpecifications: tags(c) }));
    ids.push(v.VolumeId!);
  }
});

afterAll(async () => {
  const ec2 = ec2Of(stack);
  for (const id of ids) await ec2.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined);
});

describe('clusterCapacity against EC2', () => {
  it("counts only this cluster's tagged volumes, per zone and type, against the quota", async () => {
    const cloud = createAwsCloud({ region: stack.region, endpoint: stack.ec2Endpoint, log: createLogger({ name: 'test', level: 'silent' }) });
    const entries = await clusterCapacity(cloud, cluster, { quotasGiB: { gp3: 10, st1: 1000 }, types: ['gp3', 'st1'] });
    expect(entries).toEqual([
      {
        zone: stack.zone,
        type: 'gp3',
        provisionedGiB: 8,
        volumeCount: 2,
        quotaGiB: 10,
        regionProvisionedGiB: 8,
        availableGiB: 2,
        minVolumeGiB: 1,
        maxVolumeGiB: 65536,
        largestVolumeGiB: 2,
      },
      {
        zone: stack.zone,
        type: 'st1',
        provisionedGiB: 125,
        volumeCount: 1,
        quotaGiB: 1000,
        regionProvisionedGiB: 125,
        availableGiB: 875,
        minVolumeGiB: 125,
        maxVolumeGiB: 16384,
        largestVolumeGiB: 875,
      },
    ]);
  });
});
