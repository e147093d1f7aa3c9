import type { HealthGauge } from '@plinth/csi';
import type { Cloud } from './cloud.js';

/** What the health RPCs need: EC2 through the controller's Cloud, the gauge, and when an attach counts as stuck. */
export interface HealthDeps {
  cloud: Cloud;
  health: HealthGauge;
  /** STUCK_ATTACH_TIMEOUT_MS */
  stuckAttachMs: number;
}
