import { request } from 'node:http';
import { status } from '@grpc/grpc-js';

/** One GET against the controller's metrics server; the status code, or 0 when it did not answer within `timeoutMs` (kubelet's default probe timeout is 1 s). */
function probe(port: number, path: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * What callers and kubelet saw while a dependency (EC2 or Redis) was down: every RPC that started during the
 * outage and failed (its code and how long it took to fail), and /healthz and /readyz asked every second as
 * kubelet's probes would.
 */
export class OutageWatch {
  downAt = 0;
  upAt = 0;
  /** When /readyz first answered 503 after the outage began (0: never). */
  notReadyAt = 0;
  livenessChecks = 0;
  livenessFailures = 0;
  readinessChecks = 0;
  readiness503 = 0;
  callsDuringOutage = 0;
  readonly errorsByCode: Record<string, number> = {};
  /** Longest time an RPC started during the outage took to fail. */
  maxErrorMs = 0;
  /** The same, for RPCs started once /readyz had reported the outage (what the fail-fast check covers). */
  maxErrorMsAfterNotReady = 0;
  /** RPCs already running when the outage began that then failed, and the longest of them. */
  inFlightFailed = 0;
  maxInFlightErrorMs = 0;
  private probing: Promise<void> | undefined;
  private stopProbing = false;

  constructor(private readonly metricsPort: number) {}

  /** Give this to runLifecycles' onCall. */
  readonly onCall = (startedAt: number, endedAt: number, ok: boolean, code?: number): void => {
    if (this.downAt && !ok && startedAt < this.downAt && endedAt >= this.downAt) {
      this.inFlightFailed += 1;
      this.maxInFlightErrorMs = Math.max(this.maxInFlightErrorMs, endedAt - startedAt);
    }
    if (!this.downAt || startedAt < this.downAt || (this.upAt && startedAt >= this.upAt)) return;
    this.callsDuringOutage += 1;
    if (ok) return;
    const name = code === undefined ? 'none' : (status[code] ?? String(code));
    this.errorsByCode[name] = (this.errorsByCode[name] ?? 0) + 1;
    this.maxErrorMs = Math.max(this.maxErrorMs, endedAt - startedAt);
    if (this.notReadyAt && startedAt >= this.notReadyAt) this.maxErrorMsAfterNotReady = Math.max(this.maxErrorMsAfterNotReady, endedAt - startedAt);
  };

  /** Takes the dependency down with `stop`, keeps it down `ms` while probing, then `start`s it again. */
  async outage(ms: number, stop: () => Promise<void>, start: () => Promise<void>): Promise<void> {
    await stop();
    this.downAt = performance.now();
    this.stopProbing = false;
    this.probing = this.probe();
    await new Promise((r) => setTimeout(r, ms));
    await start();
    this.upAt = performance.now();
    this.stopProbing = true;
    await this.probing;
  }

  private async probe(): Promise<void> {
    while (!this.stopProbing) {
      const tick = new Promise((r) => setTimeout(r, 1000));
      const [live, ready] = await Promise.all([probe(this.metricsPort, '/healthz'), probe(this.metricsPort, '/readyz', 6000)]);
      this.livenessChecks += 1;
      if (live !== 200) this.livenessFailures += 1;
      this.readinessChecks += 1;
      if (ready === 503) {
        this.readiness503 += 1;
        if (!this.notReadyAt) this.notReadyAt = performance.now();
      }
      await tick;
    }
  }

  /** One line for the run's summary. */
  summary(name: string): string {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    return (
      `${name}: down ${s(this.upAt - this.downAt)}; /readyz 503 after ${this.notReadyAt ? s(this.notReadyAt - this.downAt) : 'never'} (${this.readiness503}/${this.readinessChecks} checks); ` +
      `/healthz failures ${this.livenessFailures}/${this.livenessChecks}; RPCs started during the outage ${this.callsDuringOutage}, failed ${JSON.stringify(this.errorsByCode)}; ` +
      `max error latency ${s(this.maxErrorMs)} (${s(this.maxErrorMsAfterNotReady)} once /readyz reported it); ` +
      `RPCs in flight when it began that failed ${this.inFlightFailed}, the longest after ${s(this.maxInFlightErrorMs)}`
    );
  }

  /** Whether the outage was real (readiness saw it) and liveness held throughout. */
  get held(): boolean {
    return this.downAt > 0 && this.upAt > 0 && this.readiness503 > 0 && this.livenessFailures === 0;
  }
}
