import type { Operations } from '@plinth/queue';
import type { Cloud } from './cloud.js';
import type { ControllerConfig } from './config.js';

/** What the RPC handlers need; built once in main.ts. */
export interface Deps {
  config: ControllerConfig;
  ops: Operations;
  cloud: Cloud;
  version: string;
  /** Zone for volumes with no topology requirement. */
  defaultZone: string;
}
