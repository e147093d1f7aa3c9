import { aborted } from '@plinth/errors';

/**
 * One operation per volume at a time on this node. A second call for a volume
 * that is busy gets ABORTED (the CSI answer for "operation pending"); the
 * caller retries. Different volumes never wait for each other.
 */
export class VolumeLocks {
  private readonly busy = new Map<string, string>();

  async with<T>(volumeId: string, op: string, fn: () => Promise<T>): Promise<T> {
    const current = this.busy.get(volumeId);
    if (current !== undefined) throw aborted(`an operation (${current}) is already in progress for volume ${volumeId}`);
    this.busy.set(volumeId, op);
    try {
      return await fn();
    } finally {
      this.busy.delete(volumeId);
    }
  }
}
