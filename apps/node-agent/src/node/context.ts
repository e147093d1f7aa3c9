import type { HealthGauge } from '@plinth/csi';
import type { Logger } from '@plinth/logger';
import type { VolumeLocks } from '../locks.js';
import type { HostOs } from '../os/host-os.js';

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
  /** The OS: devices, filesystems, mounts, paths (LinuxOs; FakeOs in unit tests). */
  os: HostOs;
  deviceWaitMs: number;
  /** Bound of one I/O heartbeat read (HEALTH_IO_TIMEOUT_MS). */
  ioTimeoutMs: number;
  /** plinth_volume_health, fed by NodeGetVolumeHealth. */
  health: HealthGauge;
  locks: VolumeLocks;
  log: Logger;
  identity: NodeIdentity;
}
