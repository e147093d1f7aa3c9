import { volumeProblems, type HealthOptions, type StatusChecks, type VolumeInfo, type VolumeProblem } from '@plinth/cloud';
import { VolumeHealthErrorType as Health, type VolumeHealth } from '@plinth/csi';

const STATUS: Record<VolumeProblem['status'], Health> = { degraded: Health.DEGRADED, inaccessible: Health.INACCESSIBLE, data_loss: Health.DATA_LOSS };

/** A volume's health as the controller reports it (CSI 1.13 VolumeHealth): @plinth/cloud's volumeProblems, in CSI's enum. */
export function volumeHealth(v: VolumeInfo, checks: StatusChecks, o: HealthOptions): VolumeHealth {
  return { volumeId: v.id, healthStatuses: volumeProblems(v, checks, o).map((p) => ({ status: STATUS[p.status], reason: p.reason, message: p.message })) };
}
