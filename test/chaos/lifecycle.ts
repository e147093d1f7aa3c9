import { status, type ServiceError } from '@grpc/grpc-js';
import { callUnary, VolumeCapability_AccessMode_Mode as Mode, type ControllerClient, type VolumeCapability } from '@plinth/csi';

const cap: VolumeCapability = { accessMode: { mode: Mode.SINGLE_NODE_WRITER }, mount: { fsType: 'ext4', mountFlags: [], volumeMountGroup: '' } };

/** Codes a CSI sidecar retries (the operation's outcome is still open); any other code ends the lifecycle as lost. */
const RETRYABLE = new Set([
  status.CANCELLED,
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.ABORTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.RESOURCE_EXHAUSTED,
]);

export interface LifecycleStats {
  finished: number;
  lost: { name: string; error: string }[];
  retriesByCode: Record<string, number>;
}

/**
 * Runs `n` lifecycles at concurrency `c`, retrying each step as the sidecars
 * would until it succeeds. `client()` is asked anew on each try, so a restarted
 * controller is picked up.
 */
export async function runLifecycles(
  client: () => ControllerClient,
  prefix: string,
  nodeId: string,
  n: number,
  c: number,
  opts: { deadlineMs?: number; createFanout?: number; onCall?: (startedAt: number, endedAt: number, ok: boolean, code?: number) => void } = {},
): Promise<LifecycleStats> {
  const deadlineMs = opts.deadlineMs ?? 600_000;
  const fanout = opts.createFanout ?? 1;
  const stats: LifecycleStats = { finished: 0, lost: [], retriesByCode: {} };
  const until = Date.now() + deadlineMs;
  const retrying = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      const startedAt = performance.now();
      try {
        const out = await fn();
        opts.onCall?.(startedAt, performance.now(), true);
        return out;
      } catch (e) {
        const code = (e as ServiceError).code;
        opts.onCall?.(startedAt, performance.now(), false, code);
        if (!RETRYABLE.has(code) || Date.now() > until) throw e;
        const name = status[code] ?? String(code);
        stats.retriesByCode[name] = (stats.retriesByCode[name] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
      }
    }
  };
  const one = async (i: number) => {
    const name = `${prefix}-${i}`;
    const opts = { timeoutMs: 15_000 };
    try {
      // `fanout` identical CreateVolume calls at once: they must all get the same volume.
      const created = await Promise.all(
        Array.from({ length: fanout }, () =>
          retrying(() =>
            callUnary(
              client(),
              'createVolume',
              {
                name,
                capacityRange: { requiredBytes: 1024 ** 3, limitBytes: 0 },
                volumeCapabilities: [cap],
                parameters: {},
                secrets: {},
                volumeContentSource: undefined,
                accessibilityRequirements: undefined,
                mutableParameters: {},
              },
              opts,
            ),
          ),
        ),
      );
      const ids = new Set(created.map((v) => v.volume!.volumeId));
      if (ids.size !== 1) throw Object.assign(new Error(`identical CreateVolume calls returned ${[...ids].join(', ')}`), { code: status.ALREADY_EXISTS });
      const volumeId = [...ids][0]!;
      await retrying(() =>
        callUnary(client(), 'controllerPublishVolume', { volumeId, nodeId, volumeCapability: cap, readonly: false, secrets: {}, volumeContext: {} }, opts),
      );
      await retrying(() => callUnary(client(), 'controllerUnpublishVolume', { volumeId, nodeId, secrets: {} }, opts));
      await retrying(() => callUnary(client(), 'deleteVolume', { volumeId, secrets: {} }, opts));
      stats.finished += 1;
    } catch (e) {
      const err = e as ServiceError;
      stats.lost.push({ name, error: `${status[err.code] ?? err.code}: ${err.details ?? err.message}` });
    }
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(c, n) }, async () => {
      while (next < n) await one(next++);
    }),
  );
  return stats;
}
