/** What a wait is for: an EC2 action's transition on a volume of a type (e.g. attach of a gp3 volume). */
export interface Transition {
  action: 'create' | 'attach' | 'detach' | 'modify' | 'delete';
  volumeType?: string | undefined;
}

/**
 * Typical EC2 transition times before any is observed (create → available, attaching → attached,
 * detaching → detached): a first check this early is rarely wasted on real EC2. Learned times replace them.
 */
const PRIOR_MS: Record<Transition['action'], number> = { create: 1500, attach: 2000, detach: 2000, modify: 1000, delete: 500 };

/** Weight of the newest observation in the moving average. */
const ALPHA = 0.3;

/**
 * How long each kind of transition takes here, learned from what this process observed: an exponentially
 * weighted moving average per action and volume type, falling back to the action's average over all types,
 * then to the prior.
 */
export class TransitionTimes {
  private readonly avg = new Map<string, number>();

  expected(t: Transition | undefined): number | undefined {
    if (!t) return undefined;
    return this.avg.get(key(t)) ?? this.avg.get(key({ action: t.action })) ?? PRIOR_MS[t.action];
  }

  observe(t: Transition | undefined, ms: number): void {
    if (!t || !Number.isFinite(ms) || ms < 0) return;
    for (const k of new Set([key(t), key({ action: t.action })])) {
      const prev = this.avg.get(k);
      this.avg.set(k, prev === undefined ? ms : prev + ALPHA * (ms - prev));
    }
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.avg].map(([k, v]) => [k, Math.round(v)]));
  }
}

const key = (t: Transition): string => `${t.action}:${t.volumeType ?? '*'}`;
