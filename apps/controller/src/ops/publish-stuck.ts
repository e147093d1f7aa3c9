import type { AttachmentInfo } from '@plinth/cloud';

/** aws-ebs-csi-driver's stuckAttachingTimeout (pkg/cloud/cloud.go): an attachment `attaching` this long is given up and retried. */
export const DEFAULT_STUCK_ATTACH_MS = 90_000;

/**
 * Whether an attachment is stuck: still `attaching` `afterMs` after it began. It began at EC2's attach time
 * when EC2 reports one, else when this process asked for it (`askedAt`, ms since the epoch).
 */
export function isStuckAttaching(att: AttachmentInfo | undefined, now: number, afterMs: number, askedAt: number): boolean {
  if (att?.state !== 'attaching') return false;
  const since = att.attachedAt?.getTime() ?? askedAt;
  return now - since >= afterMs;
}

/** How many times one publish force-detaches a stuck attachment and attaches again before it fails UNAVAILABLE (the caller retries). */
export const STUCK_ATTACH_RETRIES = 3;
