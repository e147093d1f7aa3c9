import { toPlinthError } from '@plinth/errors';
import { Type } from 'typebox';
import type { Deps } from '../deps.js';
import { responses, type App } from '../schemas.js';

const Check = Type.Object({ name: Type.String(), ok: Type.Boolean(), message: Type.Optional(Type.String()) });
const Ready = Type.Object({ ready: Type.Boolean(), checks: Type.Array(Check) });

async function check(name: string, fn: () => Promise<unknown>, timeoutMs: number): Promise<{ name: string; ok: boolean; message?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_r, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { name, ok: true };
  } catch (err) {
    const e = toPlinthError(err, err instanceof Error ? err.message : 'failed');
    return { name, ok: false, message: e.message };
  } finally {
    clearTimeout(timer);
  }
}

/** /healthz (the process serves), /readyz (Redis and EC2 answer), /metrics. No token. */
export function healthRoutes(app: App, deps: Deps): void {
  app.get(
    '/healthz',
    {
      config: { rateLimit: false },
      schema: { tags: ['health'], summary: 'Liveness: the process serves HTTP', response: responses(Type.Object({ status: Type.Literal('ok') })) },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { rateLimit: false },
      schema: { tags: ['health'], summary: 'Readiness: Redis and EC2 are reachable', response: { ...responses(Ready), 503: Ready } },
    },
    async (_req, reply) => {
      const checks = await Promise.all([
        check('redis', () => deps.redis.ping(), 2000),
        check('ec2', () => deps.probeCloud.ping(AbortSignal.timeout(3000)), 3500),
      ]);
      const ready = checks.every((c) => c.ok);
      return reply.code(ready ? 200 : 503).send({ ready, checks });
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['health'], summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: Type.String() } } },
    async (_req, reply) => {
      const body = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(body);
    },
  );
}
