/** A NodeContext on a FakeOs, and request builders, for the node service's unit tests. */
import { VolumeCapability_AccessMode_Mode as Mode, type NodePublishVolumeRequest, type NodeStageVolumeRequest, type VolumeCapability } from '@plinth/csi';
import { HealthGauge } from '@plinth/csi';
import { createLogger } from '@plinth/logger';
import { Registry } from 'prom-client';
import { VolumeLocks } from '../locks.js';
import { FakeOs } from '../os/fake.js';
import type { NodeContext } from './context.js';
import { nodePublishVolume } from './publish.js';
import { nodeStageVolume } from './stage.js';

export const KUBELET_ROOT = '/var/lib/kubelet';
export const DEVICE_WAIT_MS = 120;

export function fakeContext(os = new FakeOs()): { ctx: NodeContext; os: FakeOs } {
  os.addDir(KUBELET_ROOT);
  const ctx: NodeContext = {
    driverName: 'ebs.csi.plinth.dev',
    version: '0.0.0-test',
    kubeletRoot: KUBELET_ROOT,
    os,
    deviceWaitMs: DEVICE_WAIT_MS,
    ioTimeoutMs: 1000,
    health: new HealthGauge(new Registry(), 'test'),
    locks: new VolumeLocks(),
    log: createLogger({ name: 'node-agent-unit', level: 'silent' }),
    identity: { nodeId: 'i-0123456789abcdef0', zone: 'us-east-1a', instanceType: 'm5.large', maxVolumesPerNode: 25 },
  };
  return { ctx, os };
}

export const mountCap = (fsType = 'ext4', mountFlags: string[] = [], mode = Mode.SINGLE_NODE_WRITER): VolumeCapability => ({
  mount: { fsType, mountFlags, volumeMountGroup: '' },
  accessMode: { mode },
});
export const blockCap = (mode = Mode.SINGLE_NODE_WRITER): VolumeCapability => ({ block: {}, accessMode: { mode } });

export const stagingOf = (volumeId: string): string => `${KUBELET_ROOT}/plugins/kubernetes.io/csi/ebs.csi.plinth.dev/${volumeId}/globalmount`;
export const targetOf = (volumeId: string): string => `${KUBELET_ROOT}/pods/pod-1/volumes/kubernetes.io~csi/${volumeId}/mount`;
export const blockTargetOf = (volumeId: string): string => `${KUBELET_ROOT}/plugins/kubernetes.io/csi/volumeDevices/publish/${volumeId}/pod-1`;

export const VOL = 'vol-0123456789abcdef0';
export const OTHER = 'vol-0fedcba9876543210';

/** A NodeStageVolume request for VOL at its staging path, as kubelet sends it, with `over` on top. */
export const stageReq = (over: Partial<NodeStageVolumeRequest> = {}): NodeStageVolumeRequest => ({
  volumeId: VOL,
  stagingTargetPath: stagingOf(VOL),
  volumeCapability: mountCap(),
  publishContext: {},
  secrets: {},
  volumeContext: {},
  ...over,
});

/** A NodePublishVolume request for VOL from its staging path to its target, with `over` on top. */
export const publishReq = (over: Partial<NodePublishVolumeRequest> = {}): NodePublishVolumeRequest => ({
  volumeId: VOL,
  stagingTargetPath: stagingOf(VOL),
  targetPath: targetOf(VOL),
  volumeCapability: mountCap(),
  readonly: false,
  publishContext: {},
  secrets: {},
  volumeContext: {},
  ...over,
});

/** A fake host with VOL's device attached (`size` bytes) and staged with `cap`; with `publish`, published too. */
export async function stagedVolume(opts: { size?: number; cap?: VolumeCapability; publish?: boolean } = {}) {
  const { ctx, os } = fakeContext();
  const dev = os.addDevice({ volumeId: VOL, ...(opts.size ? { size: opts.size } : {}) });
  const cap = opts.cap ?? mountCap();
  await nodeStageVolume(ctx, stageReq({ volumeCapability: cap }));
  if (opts.publish) await nodePublishVolume(ctx, publishReq({ volumeCapability: cap }));
  return { ctx, os, dev };
}
