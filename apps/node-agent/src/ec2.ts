import { DescribeInstancesCommand, DescribeInstanceTypesCommand, type _InstanceType } from '@aws-sdk/client-ec2';
import { createEc2Client } from '@plinth/cloud';
import { unavailable } from '@plinth/errors';
import type { InstanceShape, InstanceTypeShape } from './limits.js';

export interface Ec2Facts {
  instance?: InstanceShape | undefined;
  instanceType?: InstanceTypeShape | undefined;
  instanceTypeName?: string | undefined;
}

/** "us-east-1a" -> "us-east-1" (local zones "us-west-2-lax-1a" -> "us-west-2"). */
export function regionOfZone(zone: string): string {
  const m = /^([a-z]{2}(?:-gov)?-[a-z]+-\d+)/.exec(zone);
  return m?.[1] ?? zone.replace(/[a-z]$/, '');
}

/**
 * DescribeInstances for this instance and DescribeInstanceTypes for its type:
 * the inputs of the attach-limit computation. Failures are UNAVAILABLE with
 * the endpoint named.
 */
export async function describeNode(opts: { region: string; endpoint?: string | undefined; instanceId: string; instanceType?: string | undefined; timeoutMs?: number }): Promise<Ec2Facts> {
  const ec2 = createEc2Client({ region: opts.region, endpoint: opts.endpoint, maxAttempts: 3 });
  const where = opts.endpoint ?? `EC2 in ${opts.region}`;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 15_000);
  try {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [opts.instanceId] }), { abortSignal: signal });
    const instance = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === opts.instanceId);
    const typeName = opts.instanceType ?? instance?.InstanceType;
    let instanceType: InstanceTypeShape | undefined;
    if (typeName) {
      const t = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [typeName as _InstanceType] }), { abortSignal: signal });
      instanceType = t.InstanceTypes?.[0] ?? { InstanceType: typeName };
    }
    return { instance, instanceType, instanceTypeName: typeName };
  } catch (err) {
    throw unavailable(`EC2 (${where}) did not describe instance ${opts.instanceId}: ${(err as Error).message.split('\n')[0]}; set MAX_VOLUMES_PER_NODE to start without EC2`);
  } finally {
    ec2.destroy();
  }
}
