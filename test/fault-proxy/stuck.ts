import { field, topLevelItems } from './xml.js';

/**
 * Attachments that stick in `attaching`, as EC2 sometimes leaves one (aws-ebs-csi-driver #1801, #2833): a share
 * of successful AttachVolume calls is picked (evenly: with share 0.3, 3 of every 10, so a short run sees some too),
 * and DescribeVolumes reports those attachments `attaching` until a
 * DetachVolume for the volume arrives (Plinth sends it with Force=true). Each volume sticks at most once, so a
 * retried attach completes.
 */
export class StuckAttachments {
  private readonly stuck = new Set<string>();
  private readonly picked = new Set<string>();
  /** Attachments made to stick so far. */
  count = 0;
  /** DetachVolume calls with Force=true seen for stuck volumes. */
  forceDetaches = 0;

  /** Successful attachments seen (of volumes not stuck before). */
  private seen = 0;

  /** A successful AttachVolume: stick it when it is the next in `share` of them. */
  attached(volumeId: string, share: number): void {
    if (share <= 0 || this.picked.has(volumeId)) return;
    this.seen += 1;
    if (Math.floor(this.seen * share) === Math.floor((this.seen - 1) * share)) return;
    this.picked.add(volumeId);
    this.stuck.add(volumeId);
    this.count += 1;
  }

  /** A DetachVolume request: the volume is no longer stuck. */
  detaching(volumeId: string, force: boolean): void {
    if (this.stuck.delete(volumeId) && force) this.forceDetaches += 1;
  }

  /** Rewrites a DescribeVolumes answer: stuck volumes' attachments say `attaching` instead of `attached`. */
  rewriteDescribeVolumes(xml: string): string {
    if (this.stuck.size === 0) return xml;
    let out = xml;
    for (const it of topLevelItems(xml, 'volumeSet').reverse()) {
      const id = field(it.text, 'volumeId');
      if (!id || !this.stuck.has(id)) continue;
      out = out.slice(0, it.start) + it.text.replace('<status>attached</status>', '<status>attaching</status>') + out.slice(it.end);
    }
    return out;
  }
}
