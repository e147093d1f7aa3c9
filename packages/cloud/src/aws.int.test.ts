import { createLogger } from '@plinth/logger';
import { ec2Of, runInstance } from '../../../test/support/ec2.js';
import { requireStack } from '../../../test/support/stack.js';
import { startFaultProxy } from '../../../test/fault-proxy/proxy.js';
import { createAwsCloud } from './aws/cloud.js';
import { cloudContract } from './contract/cloud-contract.js';
import { volumeStatusContract } from './contract/status-contract.js';

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

// LocalStack has no DescribeVolumeStatus: the fault proxy answers it as EC2 does (`ok` unless told otherwise).
volumeStatusContract('EC2 (LocalStack behind the fault proxy)', async () => {
  const stack = requireStack();
  const proxy = await startFaultProxy(stack.ec2Endpoint, { volumeStatus: {} });
  const overrides: Record<
    string,
    { status: 'impaired'; ioEnabled: 'failed'; event: { type: string; description: string }; action: { code: string; description: string } }
  > = {};
  const log = createLogger({ name: 'test', level: 'silent' });
  const cloud = createAwsCloud({ region: stack.region, endpoint: proxy.endpoint, log });
  return {
    cloud,
    zone: stack.zone,
    impair: (id: string) => {
      overrides[id] = {
        status: 'impaired',
        ioEnabled: 'failed',
        event: { type: 'potential-data-inconsistency', description: 'I/O disabled' },
        action: { code: 'enable-volume-io', description: 'Enable volume I/O' },
      };
      proxy.configure({ volumeStatus: { ...overrides } });
      return Promise.resolve();
    },
    heal: (id: string) => {
      delete overrides[id];
      proxy.configure({ volumeStatus: { ...overrides } });
      return Promise.resolve();
    },
    withoutChecks: createAwsCloud({ region: stack.region, endpoint: stack.ec2Endpoint, log }),
    cleanup: () => proxy.close(),
  };
});
