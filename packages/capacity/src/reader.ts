import type { Cloud, ZoneInfo } from '@plinth/cloud';
import { capacityOf, type CapacityEntry, type VolumeLike } from './compute.js';
import { listCapacityVolumes } from './cluster.js';

/** One value, loaded at most once per `ttlMs`; concurrent callers share the load in flight; failures are not kept. */
class Cached<T> {
  private value: { at: number; v: T } | undefined;
  private inflight: Promise<T> | undefined;

  constructor(
    private readonly ttlMs: number,
    private readonly load: () => Promise<T>,
  ) {}

  get(): Promise<T> {
    if (this.value && Date.now() - this.value.at < this.ttlMs) return Promise.resolve(this.value.v);
    this.inflight ??= this.load().then(
      (v) => {
        this.inflight = undefined;
        if (this.ttlMs > 0) this.value = { at: Date.now(), v };
        return v;
      },
      (err: unknown) => {
        this.inflight = undefined;
        throw err;
      },
    );
    return this.inflight;
  }
}

/** The shared load settles for everyone; a caller that gives up stops waiting without cancelling it for the others. */
function until<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export interface CapacityReaderOptions {
  /** Quota per type in GiB (see quotasGiB). */
  quotasGiB: Readonly<Record<string, number>>;
  /** How long this cluster's provisioned volumes are reused (0: only concurrent callers share a DescribeVolumes). */
  ttlMs: number;
  /** How long the region's zone list is reused (default one hour: zones hardly ever change). */
  zonesTtlMs?: number;
}

/**
 * Capacity read from EC2 for CSI GetCapacity. external-provisioner asks once
 * per storage class and topology segment, all at once every poll period: the
 * cluster's volumes are listed at most once per `ttlMs` whatever the number
 * of classes and zones, and the zone list once per `zonesTtlMs`.
 */
export class CapacityReader {
  private readonly volumes: Cached<VolumeLike[]>;
  private readonly zoneList: Cached<ZoneInfo[]>;

  constructor(
    cloud: Cloud,
    clusterId: string,
    private readonly opts: CapacityReaderOptions,
  ) {
    this.volumes = new Cached(opts.ttlMs, async () =>
      (await listCapacityVolumes(cloud, clusterId)).map(({ zone, type, sizeGiB, state }) => ({ zone, type, sizeGiB, state })),
    );
    this.zoneList = new Cached(opts.zonesTtlMs ?? 3_600_000, () => cloud.zones.list());
  }

  /** The region's zones. */
  zones(signal?: AbortSignal): Promise<ZoneInfo[]> {
    return until(this.zoneList.get(), signal);
  }

  /** Capacity of `type` in `zone` (or the whole region when `zone` is undefined). */
  async entry(zone: string | undefined, type: string, signal?: AbortSignal): Promise<CapacityEntry> {
    return capacityOf(await until(this.volumes.get(), signal), { quotasGiB: this.opts.quotasGiB, type, zone });
  }
}
