import type { CapacityReader } from '@plinth/capacity';
import type { Logger } from '@plinth/logger';
import type { Operations } from '@plinth/queue';
import type { Cloud } from './cloud.js';
import type { ControllerConfig } from './config.js';
import type { ModifyRequests } from './ops/modify-requests.js';

/** What the RPC handlers need; built once in main.ts. */
export interface Deps {
  config: ControllerConfig;
  ops: Operations;
  cloud: Cloud;
  /** Provisioned totals and quotas, for GetCapacity. */
  capacity: CapacityReader;
  /** Resize/modify requests per volume, merged in Redis for the modify job. */
  modifyRequests: ModifyRequests;
  version: string;
  /** Zone for volumes with no topology requirement. */
  defaultZone: string;
  /** For what handlers accept but warn about (deprecated parameters, capped IOPS). */
  log: Logger;
}
