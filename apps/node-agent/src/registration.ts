import type { Logger } from '@plinth/logger';
import { connectRedis, describeRedis, type RedisConnection } from '@plinth/redis';
import { heartbeat, registerNode, type NodeRegistration } from '@plinth/nodes';

export interface Registration {
  stop(): Promise<void>;
}

/**
 * Registers the node in Redis and refreshes its heartbeat. Redis being down
 * never stops the CSI service: failures are logged and retried on the next beat.
 */
export async function startRegistration(
  conn: RedisConnection,
  reg: Omit<NodeRegistration, 'heartbeatAt'>,
  intervalMs: number,
  log: Logger,
): Promise<Registration> {
  const redis = connectRedis(conn, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: true });
  redis.on('error', (err: Error) => log.debug({ err: err.message }, 'redis connection error'));
  const ttlSeconds = Math.max(3, Math.ceil((intervalMs * 3) / 1000));
  const register = () => registerNode(redis, { ...reg, heartbeatAt: Date.now() }, { ttlSeconds });
  try {
    await redis.connect();
    await register();
    log.info({ redis: describeRedis(conn), instanceId: reg.instanceId, ttlSeconds }, 'registered in Redis');
  } catch (err) {
    log.warn({ redis: describeRedis(conn), err: (err as Error).message }, 'could not register in Redis yet; will retry');
  }
  let beating: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    beating = (async () => {
      try {
        if (!(await heartbeat(redis, reg.instanceId, Date.now(), { ttlSeconds }))) await register();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'heartbeat to Redis failed');
      }
    })();
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await beating;
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
