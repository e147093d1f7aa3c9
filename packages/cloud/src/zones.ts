import { DescribeAvailabilityZonesCommand, type AvailabilityZone } from '@aws-sdk/client-ec2';
import type { Ec2 } from './ec2.js';

export type { AvailabilityZone };

/** The zones of the region that this account can use (DescribeAvailabilityZones, through the adapter). */
export async function describeZones(ec2: Ec2, signal?: AbortSignal): Promise<AvailabilityZone[]> {
  const res = await ec2.send('DescribeAvailabilityZones', 'availability zones', (s) => ec2.client.send(new DescribeAvailabilityZonesCommand({}), { abortSignal: s }), signal);
  return res.AvailabilityZones ?? [];
}
