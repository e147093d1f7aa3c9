import { createLogger } from '@plinth/logger';
import { callEc2, type Ec2Options } from '../call.js';
import { Ec2Fault, unsupportedAsUnimplemented } from '../errors.js';
import type { InstanceInfo, InstanceTypeInfo, SnapshotInfo, VolumeInfo, VolumeModificationInfo, VolumeStatusInfo } from '../types.js';

/** State transitions the in-memory cloud can take time over (ms; 0 = done by the next call). */
export interface Delays {
  /** creating → available */
  create: number;
  /** attaching → attached */
  attach: number;
  /** detaching → detached (gone from the volume) */
  detach: number;
  /** deleting → gone */
  delete: number;
  /** snapshot pending → completed */
  snapshot: number;
  /** modification modifying → optimizing (target values applied) → completed */
  modify: number;
  /** snapshot copy (CopySnapshot) pending → completed */
  copy: number;
}

export interface MemoryCloudOptions extends Partial<Ec2Options> {
  region?: string;
  /** The regions DescribeRegions answers (default: five AWS regions including this one). */
  regions?: string[];
  /** Zone names (default: the region's a, b and c). */
  zones?: string[];
  delays?: Partial<Delays>;
  /** The clock transitions are timed by (default Date.now; vitest's fake timers drive it). */
  now?: () => number;
  /** Whether the endpoint has volume status checks (LocalStack has none). */
  statusChecks?: boolean;
}

interface Fault {
  action: string;
  code: string;
  status: number;
  times: number;
}

/** EC2's resources as the in-memory cloud keeps them, with pending state transitions and injected faults. */
export class World {
  readonly volumes = new Map<string, VolumeInfo>();
  readonly snapshots = new Map<string, SnapshotInfo>();
  readonly instances = new Map<string, InstanceInfo>();
  readonly types = new Map<string, InstanceTypeInfo>();
  readonly modifications = new Map<string, VolumeModificationInfo[]>();
  readonly fastRestores = new Map<string, Set<string>>();
  /** Status checks set by a test (MemoryCloud.setVolumeStatus); other volumes report `ok`. */
  readonly volumeStatuses = new Map<string, VolumeStatusInfo>();
  readonly clientTokens = new Map<string, string>();
  readonly zones: string[];
  readonly region: string;
  readonly delays: Delays;
  readonly statusChecks: boolean;
  readonly now: () => number;
  /** How many of the next attachments stay `attaching` until detached (MemoryCloud.stickAttachments). */
  stickyAttaches = 0;
  private readonly pending: { at: number; apply: () => void }[] = [];
  private readonly faults: Fault[] = [];
  private readonly opts: Ec2Options;
  private seq = 0;

  constructor(o: MemoryCloudOptions) {
    this.region = o.region ?? 'us-east-1';
    this.zones = o.zones ?? ['a', 'b', 'c'].map((s) => this.region + s);
    this.delays = { create: 0, attach: 0, detach: 0, delete: 0, snapshot: 0, modify: 0, copy: 0, ...o.delays };
    this.statusChecks = o.statusChecks ?? true;
    this.now = o.now ?? Date.now;
    // Throttling surfaces at once unless a budget is given, so unit tests see it.
    this.opts = {
      log: o.log ?? createLogger({ name: 'memory-cloud', level: 'silent' }),
      limiter: o.limiter,
      observer: o.observer,
      retryBudgetMs: o.retryBudgetMs ?? 0,
    };
  }

  /** A fresh id in EC2's format (17 hex digits). */
  id(prefix: string): string {
    return `${prefix}-${(++this.seq).toString(16).padStart(17, '0')}`;
  }

  /** Runs `apply` once `ms` have passed (checked at the start of every call). */
  later(ms: number, apply: () => void): void {
    this.pending.push({ at: this.now() + ms, apply });
  }

  private settle(): void {
    const now = this.now();
    for (let i = 0; i < this.pending.length;) {
      const p = this.pending[i]!;
      if (p.at <= now) {
        this.pending.splice(i, 1);
        p.apply();
      } else i++;
    }
  }

  /** The next `times` calls of `action` ('*': any) fail with EC2 error `code`. */
  fail(action: string, code: string, times = 1, status = 400): void {
    this.faults.push({ action, code, status, times });
  }

  private fault(action: string): Ec2Fault | undefined {
    const f = this.faults.find((x) => x.action === action || x.action === '*');
    if (!f) return undefined;
    if (--f.times <= 0) this.faults.splice(this.faults.indexOf(f), 1);
    return new Ec2Fault(f.code, `${f.code} (injected)`, f.status);
  }

  /** One EC2 call: through the same limiter, retries, metrics and error mapping as the real adapter. */
  call<T>(action: string, what: string, signal: AbortSignal | undefined, body: () => T): Promise<T> {
    return callEc2(
      this.opts,
      action,
      what,
      (s) =>
        unsupportedAsUnimplemented(
          action,
          // A throw in the executor rejects: EC2's refusals reach the retry and mapping as rejections.
          () =>
            new Promise<T>((resolve) => {
              s?.throwIfAborted();
              this.settle();
              const f = this.fault(action);
              if (f) throw f;
              resolve(structuredClone(body()));
            }),
        ),
      signal,
    );
  }

  volume(id: string): VolumeInfo {
    const v = this.volumes.get(id);
    if (!v || v.state === 'deleted') throw new Ec2Fault('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
    return v;
  }

  snapshot(id: string): SnapshotInfo {
    const s = this.snapshots.get(id);
    if (!s) throw new Ec2Fault('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
    return s;
  }

  instance(id: string): InstanceInfo {
    const i = this.instances.get(id);
    if (!i || i.state === 'terminated') throw new Ec2Fault('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return i;
  }
}

export const invalid = (message: string, code = 'InvalidParameterValue'): Ec2Fault => new Ec2Fault(code, message);
