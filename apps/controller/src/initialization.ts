import { setTimeout as sleep } from 'node:timers/promises';
import type { VolumeStatusInfo } from '@plinth/cloud';
import { deadlineExceeded } from '@plinth/errors';

/** How often DescribeVolumeStatus is asked while a volume initializes (it can take hours; EC2 updates it slowly). */
const POLL_MS = 15_000;

/** Whether EC2's status checks say the volume is still initializing (restored from a snapshot, blocks not all fetched). */
function initializing(s: VolumeStatusInfo | undefined): boolean {
  return s?.details.some((d) => d.name === 'initialization-state' && d.status === 'initializing') ?? false;
}

/**
 * Waits until EC2 no longer reports the volume initializing, as aws-ebs-csi-driver does for a volume whose
 * context has blockAttachUntilInitialized "true" (its ControllerPublishVolume answers only then). An endpoint
 * without status checks (LocalStack) counts as initialized. The call's deadline ends the wait: the CO retries
 * ControllerPublishVolume, which finds the volume attached and waits again.
 */
export async function awaitInitialized(
  status: (ids: readonly string[], signal?: AbortSignal) => Promise<Map<string, VolumeStatusInfo> | undefined>,
  volumeId: string,
  ctx: { signal: AbortSignal; deadline: number },
  pollMs = POLL_MS,
): Promise<void> {
  for (;;) {
    const found = await status([volumeId], ctx.signal);
    if (!initializing(found?.get(volumeId))) return;
    if (Date.now() + pollMs > ctx.deadline) throw deadlineExceeded(`volume ${volumeId} is still initializing (blockAttachUntilInitialized); retry`);
    await sleep(pollMs, undefined, { signal: ctx.signal });
  }
}
