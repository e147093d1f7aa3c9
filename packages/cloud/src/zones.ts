import { DescribeAvailabilityZonesCommand, type AvailabilityZone } from '@aws-sdk/client-ec2';
import type { Ec2 } from './ec2.js';

export type { AvailabilityZone };

/**
 * The zones of the region (DescribeAvailabilityZones, through the adapter): those this account can use, or with
 * `all` every zone of the region, opted in or not.
 */
export async function describeZones(ec2: Ec2, signal?: AbortSignal, opts: { all?: boolean } = {}): Promise<AvailabilityZone[]> {
  const input = opts.all ? { AllAvailabilityZones: true } : {};
  const res = await ec2.send('DescribeAvailabilityZones', 'availability zones', (s) => ec2.client.send(new DescribeAvailabilityZonesCommand(input), { abortSignal: s }), signal);
  return res.AvailabilityZones ?? [];
}

/** The names of every zone of the region. */
export async function regionZones(ec2: Ec2, signal?: AbortSignal): Promise<string[]> {
  return (await describeZones(ec2, signal, { all: true })).map((z) => z.ZoneName).filter((z): z is string => !!z);
}
