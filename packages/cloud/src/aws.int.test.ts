import { createLogger } from '@plinth/logger';
import { ec2Of, runInstance } from '../../../test/support/ec2.js';
import { requireStack } from '../../../test/support/stack.js';
import { createAwsCloud } from './aws/cloud.js';
import { cloudContract } from './contract/cloud-contract.js';

cloudContract('EC2 (LocalStack)', async () => {
  const stack = requireStack();
  // An instance of its own, so device names never collide with other suites'.
  const instanceId = await runInstance(ec2Of(stack), stack.zone, stack.instanceType);
  const cloud = createAwsCloud({ region: stack.region, endpoint: stack.ec2Endpoint, log: createLogger({ name: 'test', level: 'silent' }) });
  const launchWithMapping = (device: string, sizeGiB: number) =>
    runInstance(ec2Of(stack), stack.zone, stack.instanceType, [
      { DeviceName: device, Ebs: { VolumeSize: sizeGiB, VolumeType: 'gp3', DeleteOnTermination: true } },
    ]);
  // LocalStack serves every region on the one endpoint, as EC2's regional endpoints would each answer.
  const otherRegion = stack.region === 'us-west-2' ? 'us-east-1' : 'us-west-2';
  return { cloud, zone: stack.zone, instanceId, instanceType: stack.instanceType, launchWithMapping, otherRegion };
});
