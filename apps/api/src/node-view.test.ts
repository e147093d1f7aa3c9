import type { InstanceInfo } from '@plinth/cloud';
import { describe, expect, it } from 'vitest';
import { nodeView, type NodeInputs } from './node-view.js';

const ID = 'i-0123456789abcdef0';
const reg = {
  instanceId: ID,
  zone: 'us-east-1a',
  instanceType: 'm5.large',
  attachLimit: 25,
  driverName: 'ebs.csi.plinth.dev',
  startedAt: 0,
  heartbeatAt: 1000,
};
const instance: InstanceInfo = {
  id: ID,
  type: 'm5.large',
  zone: 'us-east-1a',
  state: 'running',
  rootDevice: '/dev/xvda',
  blockDevices: [
    { device: '/dev/xvda', volumeId: 'vol-root', deleteOnTermination: true, state: 'attached' },
    { device: '/dev/xvdaa', volumeId: 'vol-a', deleteOnTermination: false, state: 'attached' },
  ],
  networkInterfaceCount: 1,
};
const volumes = [
  { id: 'vol-a', attachments: [{ instanceId: ID, device: '/dev/xvdaa', state: 'attached' }] },
  { id: 'vol-b', attachments: [{ instanceId: ID, device: '/dev/xvdab', state: 'attaching' }] },
  { id: 'vol-c', attachments: [{ instanceId: 'i-other', device: '/dev/xvdaa', state: 'attached' }] },
];
const base: NodeInputs = {
  instanceId: ID,
  registration: reg,
  kubeEnabled: false,
  instance,
  instanceType: { name: 'm5.large', maxEbsAttachments: 26, attachmentLimitType: 'shared', nvmeInstanceStoreDisks: 0 },
  volumes,
  reservedSlots: 2,
};

describe('nodeView', () => {
  it('counts CSI attachments, lists every device and agrees when the sources agree', () => {
    const v = nodeView(base);
    expect(v).toMatchObject({ attachLimit: 25, attachLimitSource: 'redis', attachedCount: 2, reservedSlots: 2, remainingSlots: 23, disagreements: [] });
    expect(v.limit).toMatchObject({ typeLimit: 26, nonCsiDevices: ['/dev/xvda'], computedLimit: 25 });
    expect(v.attachments).toEqual([
      { volumeId: 'vol-root', device: '/dev/xvda', state: 'attached', csi: false },
      { volumeId: 'vol-a', device: '/dev/xvdaa', state: 'attached', csi: true },
      { volumeId: 'vol-b', device: '/dev/xvdab', state: 'attaching', csi: true },
    ]);
  });

  it('takes reserved slots into account and never reports negative room', () => {
    expect(nodeView({ ...base, reservedSlots: 30 }).remainingSlots).toBe(0);
  });

  it('shows every disagreement between Redis, EC2 and Kubernetes', () => {
    const v = nodeView({
      ...base,
      kubeEnabled: true,
      kube: {
        name: 'node-1',
        instanceId: ID,
        zone: 'us-east-1b',
        instanceType: 'm5.large',
        allocatable: 24,
        attachments: [
          { volumeId: 'vol-a', attached: true },
          { volumeId: 'vol-z', attached: true },
        ],
      },
    });
    const fields = v.disagreements.map((d) => d.field);
    expect(fields).toEqual(['zone', 'attachLimit', 'attachments']);
    expect(v.disagreements[0]).toMatchObject({ values: { redis: 'us-east-1a', ec2: 'us-east-1a', kubernetes: 'us-east-1b' } });
    expect(v.disagreements[1]!.message).toBe('attach limit differs: redis says 25, kubernetes says 24, ec2 says 25');
    expect(v.disagreements[2]!.message).toContain('only in Kubernetes [vol-z]');
    expect(v.kubernetesName).toBe('node-1');
  });

  it('flags a registration EC2 does not know and a Kubernetes node without one', () => {
    expect(nodeView({ ...base, instance: undefined }).disagreements.map((d) => d.field)).toEqual(['instance']);
    const k8sOnly = nodeView({ ...base, registration: undefined, kubeEnabled: true, kube: { name: 'n', instanceId: ID, allocatable: 20, attachments: [] } });
    expect(k8sOnly).toMatchObject({ attachLimit: 20, attachLimitSource: 'kubernetes' });
    expect(k8sOnly.disagreements.map((d) => d.field)).toContain('registration');
    expect(nodeView({ ...base, kubeEnabled: true }).disagreements.map((d) => d.field)).toEqual(['kubernetes']);
  });
});
