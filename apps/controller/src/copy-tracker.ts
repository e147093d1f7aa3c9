import type { Redis } from 'ioredis';

/**
 * Which cross-region snapshot copies are pending (waiting for their source, or copying), kept where every
 * replica sees them, so `plinth_snapshot_copies_pending` counts each once whichever controller works on it and
 * survives restarts; and a hook for the copies that failed.
 */
export interface CopyTracker {
  /** The copy `key` (`<snapshotId>:<region>`) is under way (idempotent). */
  pending(key: string): Promise<void>;
  /** It ended: completed, or its source was deleted. */
  ended(key: string): Promise<void>;
  /** It failed for good. */
  failed(key: string): Promise<void>;
  /** How many are pending now. */
  count(): Promise<number>;
}

export class RedisCopyTracker implements CopyTracker {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    clusterId: string,
    private readonly onFailed: () => void = () => undefined,
  ) {
    this.key = `plinth:${clusterId}:snapshot-copies:pending`;
  }

  async pending(key: string): Promise<void> {
    await this.redis.sadd(this.key, key);
  }

  async ended(key: string): Promise<void> {
    await this.redis.srem(this.key, key);
  }

  async failed(key: string): Promise<void> {
    await this.redis.srem(this.key, key);
    this.onFailed();
  }

  count(): Promise<number> {
    return this.redis.scard(this.key);
  }
}

export class MemoryCopyTracker implements CopyTracker {
  readonly pendingKeys = new Set<string>();
  readonly failures: string[] = [];

  pending(key: string): Promise<void> {
    this.pendingKeys.add(key);
    return Promise.resolve();
  }

  ended(key: string): Promise<void> {
    this.pendingKeys.delete(key);
    return Promise.resolve();
  }

  failed(key: string): Promise<void> {
    this.pendingKeys.delete(key);
    this.failures.push(key);
    return Promise.resolve();
  }

  count(): Promise<number> {
    return Promise.resolve(this.pendingKeys.size);
  }
}
