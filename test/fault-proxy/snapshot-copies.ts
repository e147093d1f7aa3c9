import { field, setOwnField, topLevelItems } from './xml.js';

/**
 * LocalStack completes a CopySnapshot at once; EC2 takes minutes to hours. This table remembers each copy the
 * proxy saw made and reports it `pending`, with its progress growing, in DescribeSnapshots answers until
 * `copyMs` after its CopySnapshot.
 */
export class CopyDelays {
  private readonly pending = new Map<string, { from: number; until: number }>();

  constructor(public copyMs: number) {}

  /** Records a successful CopySnapshot answer. */
  observe(answer: string, now = Date.now()): void {
    const id = field(answer, 'snapshotId');
    if (id && this.copyMs > 0) this.pending.set(id, { from: now, until: now + this.copyMs });
  }

  /** Rewrites a DescribeSnapshots answer: copies still within their delay are `pending` at their share of it. */
  rewriteDescribeSnapshots(xml: string, now = Date.now()): string {
    let out = xml;
    for (const item of topLevelItems(xml, 'snapshotSet').reverse()) {
      const id = field(item.text, 'snapshotId');
      const p = id ? this.pending.get(id) : undefined;
      if (!p) continue;
      if (p.until <= now) {
        this.pending.delete(id!);
        continue;
      }
      const pct = Math.floor((100 * (now - p.from)) / (p.until - p.from));
      const text = setOwnField(setOwnField(item.text, 'status', 'pending'), 'progress', `${pct}%`);
      out = out.slice(0, item.start) + text + out.slice(item.end);
    }
    return out;
  }
}
