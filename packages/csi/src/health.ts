import { Gauge, type Registry } from 'prom-client';
import { VolumeHealthErrorType as Health, type VolumeHealth } from './gen/csi.js';

/** A health status as a metric label: "degraded", "inaccessible", "data_loss" ("unknown" for values newer than this build). */
export function healthLabel(status: Health): string {
  switch (status) {
    case Health.DEGRADED:
      return 'degraded';
    case Health.INACCESSIBLE:
      return 'inaccessible';
    case Health.DATA_LOSS:
      return 'data_loss';
    default:
      return 'unknown';
  }
}

/** Whether anything is known to be wrong with a volume. */
export const isUnhealthy = (h: VolumeHealth): boolean => h.healthStatuses.length > 0;

/**
 * `plinth_volume_health{volume_id,status,reason}`: 1 for each problem the
 * last health answer for a volume reported; a volume found healthy has no
 * series (so the gauge holds only unhealthy volumes and never grows with the
 * cluster). Alert on `plinth_volume_health > 0`.
 */
export class HealthGauge {
  private readonly gauge: Gauge<'volume_id' | 'status' | 'reason'>;
  private readonly series = new Map<string, { status: string; reason: string }[]>();

  constructor(registry: Registry, help: string) {
    this.gauge = new Gauge({ name: 'plinth_volume_health', help, labelNames: ['volume_id', 'status', 'reason'] as const, registers: [registry] });
  }

  /** One volume's latest health. */
  report(h: VolumeHealth): void {
    for (const s of this.series.get(h.volumeId) ?? []) this.gauge.remove({ volume_id: h.volumeId, ...s });
    const now = h.healthStatuses.map((e) => ({ status: healthLabel(e.status), reason: e.reason }));
    for (const s of now) this.gauge.set({ volume_id: h.volumeId, ...s }, 1);
    if (now.length > 0) this.series.set(h.volumeId, now);
    else this.series.delete(h.volumeId);
  }

  /** Every unhealthy volume there is (a full ListVolumeHealth): the others are healthy now. */
  replaceAll(unhealthy: VolumeHealth[]): void {
    const ids = new Set(unhealthy.map((h) => h.volumeId));
    for (const id of [...this.series.keys()]) if (!ids.has(id)) this.report({ volumeId: id, healthStatuses: [] });
    for (const h of unhealthy) this.report(h);
  }
}
