import { Redis, type RedisOptions } from 'ioredis';

type Command = Parameters<Redis['sendCommand']>[0];

/** How long a client left ended by a failed reconnect waits before it connects again. */
export const RECONNECT_AFTER_END_MS = 1000;

/**
 * An ioredis client that stays closed only when closed on purpose (quit or disconnect).
 *
 * ioredis can end a client for good without anyone closing it: a disconnect that lands while a reconnect is still
 * resolving where to connect (in Sentinel mode, its own `+switch-master` detector firing while it asks the sentinels
 * for the new primary) makes that connect fail and leaves the client in its terminal `end` state. Under
 * `maxRetriesPerRequest: null` every later command on it waits forever: a worker that never takes another job, a lease
 * that is never released. This client connects again a second later, as often as it takes, and so do its duplicates
 * (BullMQ opens its blocking connections with `duplicate()`).
 */
export class ReconnectingRedis extends Redis {
  private closedOnPurpose = false;

  constructor(options: RedisOptions) {
    super(options);
    this.on('end', () => {
      if (this.closedOnPurpose) return;
      setTimeout(() => {
        if (this.closedOnPurpose || this.status !== 'end') return;
        if (this.listenerCount('error') > 0) this.emit('error', new Error('the Redis connection ended without being closed; connecting again'));
        this.connect().catch(() => undefined);
      }, RECONNECT_AFTER_END_MS).unref();
    });
  }

  override connect(callback?: Parameters<Redis['connect']>[0]): Promise<void> {
    this.closedOnPurpose = false;
    return super.connect(callback);
  }

  override disconnect(reconnect = false): void {
    if (!reconnect) this.closedOnPurpose = true;
    super.disconnect(reconnect);
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    if (command.name === 'quit') this.closedOnPurpose = true;
    return super.sendCommand(command, stream);
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new ReconnectingRedis({ ...this.options, ...override });
  }
}
