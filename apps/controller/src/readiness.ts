/**
 * Readiness, kept apart from liveness. Probe (what the livenessprobe sidecar asks) answers ready while the
 * process serves gRPC; a Redis or EC2 outage must not get healthy pods restarted. Whether the dependencies
 * answer is readiness: GET /readyz on the metrics server, and the fail-fast check of mutating RPCs.
 */
import { unavailable } from '@plinth/errors';

export interface ReadinessDeps {
  /** Resolves when Redis answers PING. */
  pingRedis(timeoutMs: number): Promise<void>;
  /** Resolves when EC2 answers a cheap call. */
  pingEc2(signal: AbortSignal): Promise<void>;
}

export interface ReadinessReport {
  ready: boolean;
  /** When the report was made (ms since the epoch). */
  at: number;
  /** One line per unreachable dependency, naming it ("Redis is unreachable: …"). */
  reasons: string[];
  checks: { redis: 'ok' | 'unreachable'; ec2: 'ok' | 'unreachable' };
}

/** Caches the EC2 answer (ttl) so a chatty probe cannot spend the API budget; Redis is asked each time. */
export class Readiness {
  private ec2CheckedAt = 0;
  private ec2Error: string | undefined;
  private last: ReadinessReport | undefined;

  constructor(
    private readonly deps: ReadinessDeps,
    private readonly opts: {
      ec2TtlMs?: number;
      redisTimeoutMs?: number;
      ec2TimeoutMs?: number;
      /** Called when a check finds a dependency unreachable that the check before found reachable. */
      onUnready?: (reasons: string[]) => void;
    } = {},
  ) {}

  async check(): Promise<ReadinessReport> {
    const redis = this.deps.pingRedis(this.opts.redisTimeoutMs ?? 2000).then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    if (Date.now() - this.ec2CheckedAt > (this.opts.ec2TtlMs ?? 15_000)) {
      this.ec2Error = await this.deps.pingEc2(AbortSignal.timeout(this.opts.ec2TimeoutMs ?? 5000)).then(
        () => undefined,
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      );
      this.ec2CheckedAt = Date.now();
    }
    const redisError = await redis;
    const reasons: string[] = [];
    if (redisError !== undefined) reasons.push(`Redis is unreachable: ${redisError}`);
    if (this.ec2Error !== undefined) reasons.push(`EC2 is unreachable: ${this.ec2Error}`);
    const wasReady = this.last?.ready ?? true;
    this.last = {
      ready: reasons.length === 0,
      at: Date.now(),
      reasons,
      checks: { redis: redisError === undefined ? 'ok' : 'unreachable', ec2: this.ec2Error === undefined ? 'ok' : 'unreachable' },
    };
    if (wasReady && !this.last.ready) this.opts.onUnready?.(reasons);
    return this.last;
  }

  /** The last report, if any check has run. */
  get lastReport(): ReadinessReport | undefined {
    return this.last;
  }

  /**
   * Fail fast during an outage: throws UNAVAILABLE naming the unreachable dependency when a readiness check
   * (GET /readyz, which kubelet asks every 10 s) found one within the last `freshMs`. Without a recent check
   * it lets the call through (the queue's own enqueue timeout still names Redis).
   */
  assertReachable(method: string, freshMs = 30_000): void {
    const r = this.last;
    if (!r || r.ready || Date.now() - r.at > freshMs) return;
    throw unavailable(`${method} refused: ${r.reasons.join('; ')} (checked ${Math.round((Date.now() - r.at) / 1000)} s ago); retry`);
  }
}
