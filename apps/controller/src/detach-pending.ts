import { Counter, type Registry } from 'prom-client';

/** aws-ebs-csi-driver emits a detach only once it has been pending this long (its default), to keep the label set small. */
const EMIT_AFTER_SECONDS = 60;

/**
 * aws-ebs-csi-driver's `aws_ebs_csi_ec2_detach_pending_seconds_total{volume_id,instance_id,attachment_state}`:
 * for each detach this process is waiting on, the seconds since it was asked, with the attachment's last seen
 * state; emitted once a detach has been pending 60 s, gone once it is detached.
 */
export class DetachPending {
  private readonly pending = new Map<string, { volumeId: string; instanceId: string; since: number; state: string }>();

  constructor(
    registry: Registry,
    private readonly now: () => number = () => Date.now(),
    emitAfterSeconds = EMIT_AFTER_SECONDS,
  ) {
    const pending = this.pending;
    const clock = this.now;
    new Counter({
      name: 'aws_ebs_csi_ec2_detach_pending_seconds_total',
      help: 'Seconds the driver has been waiting for a volume to detach from an instance (emitted from 60 s on); attachment_state is the last state seen (aws-ebs-csi-driver name)',
      labelNames: ['volume_id', 'instance_id', 'attachment_state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const d of pending.values()) {
          const seconds = (clock() - d.since) / 1000;
          if (seconds >= emitAfterSeconds) this.inc({ volume_id: d.volumeId, instance_id: d.instanceId, attachment_state: d.state }, seconds);
        }
      },
    });
  }

  /** A detach asked of EC2, or its attachment seen again in `state` (detaching, busy…); detached or gone ends it. */
  track(volumeId: string, instanceId: string, state: string | undefined): void {
    const key = `${volumeId}:${instanceId}`;
    if (state === undefined || state === 'detached') {
      this.pending.delete(key);
      return;
    }
    const since = this.pending.get(key)?.since ?? this.now();
    this.pending.set(key, { volumeId, instanceId, since, state });
  }

  clear(volumeId: string, instanceId: string): void {
    this.pending.delete(`${volumeId}:${instanceId}`);
  }
}
