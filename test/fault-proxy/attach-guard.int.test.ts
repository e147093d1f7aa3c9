/**
 * The fault proxy answers a second AttachVolume of an attached volume as EC2 does (VolumeInUse), where LocalStack's
 * moto moves the attachment to the new instance. Needs the stack (LocalStack).
 */
import { AttachVolumeCommand, CreateVolumeCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Of, runInstance, volumeById } from '../support/ec2.js';
import { requireStack } from '../support/stack.js';
import { startFaultProxy, type FaultProxy } from './proxy.js';

const stack = requireStack();
const direct = ec2Of(stack);
let proxy: FaultProxy;
let viaProxy: EC2Client;
beforeAll(async () => {
  proxy = await startFaultProxy(stack.ec2Endpoint);
  viaProxy = ec2Of({ ...stack, ec2Endpoint: proxy.endpoint });
});
afterAll(() => proxy.close());

const newVolume = async () => (await direct.send(new CreateVolumeCommand({ AvailabilityZone: stack.zone, Size: 1 }))).VolumeId!;
const attachedTo = async (volumeId: string) => ((await volumeById(direct, volumeId))?.Attachments ?? []).map((a) => a.InstanceId);

describe('AttachVolume of a volume attached elsewhere', () => {
  it('is accepted by LocalStack itself, which moves the attachment (why the proxy guards it)', async () => {
    const [volumeId, other] = [await newVolume(), await runInstance(direct, stack.zone)];
    await direct.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: stack.nodeId, Device: '/dev/xvdbq' }));
    await direct.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: other, Device: '/dev/xvdbq' }));
    expect(await attachedTo(volumeId)).toEqual([other]);
  });

  it('is refused VolumeInUse through the proxy, and the first attachment stays', async () => {
    const [volumeId, other] = [await newVolume(), await runInstance(direct, stack.zone)];
    await viaProxy.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: stack.nodeId, Device: '/dev/xvdbr' }));
    await expect(viaProxy.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: other, Device: '/dev/xvdbr' }))).rejects.toMatchObject({
      name: 'VolumeInUse',
    });
    await expect(viaProxy.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: stack.nodeId, Device: '/dev/xvdbs' }))).rejects.toMatchObject({
      name: 'VolumeInUse',
    });
    expect(await attachedTo(volumeId)).toEqual([stack.nodeId]);
  });

  it('lets two attaches of one volume race through the proxy with one winner', async () => {
    const [volumeId, other] = [await newVolume(), await runInstance(direct, stack.zone)];
    const results = await Promise.allSettled([
      viaProxy.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: stack.nodeId, Device: '/dev/xvdbt' })),
      viaProxy.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: other, Device: '/dev/xvdbt' })),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await attachedTo(volumeId)).toHaveLength(1);
  });
});
