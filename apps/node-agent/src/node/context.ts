import type { Logger } from '@plinth/logger';
import type { DeviceRoots } from '../device/find.js';
import type { VolumeLocks } from '../locks.js';

/** What this node is, as reported by NodeGetInfo. */
export interface NodeIdentity {
  nodeId: string;
  zone: string;
  instanceType: string;
  maxVolumesPerNode: number;
}

/** Everything a CSI handler needs; built once in agent.ts. */
export interface NodeContext {
  driverName: string;
  version: string;
  kubeletRoot: string;
  roots: DeviceRoots;
  deviceWaitMs: number;
  locks: VolumeLocks;
  log: Logger;
  identity: NodeIdentity;
}
