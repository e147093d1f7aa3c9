import { readFileSync } from 'node:fs';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyHttpOptions } from 'fastify';
import type { Server } from 'node:http';
import { allows, bearer } from './auth.js';
import type { Deps } from './deps.js';
import { HttpError, toHttp } from './errors.js';
import { capacityRoutes } from './routes/capacity.js';
import { healthRoutes } from './routes/health.js';
import { jobsRoutes } from './routes/jobs.js';
import { nodesRoutes } from './routes/nodes.js';
import { snapshotsRoutes } from './routes/snapshots.js';
import { volumesRoutes } from './routes/volumes.js';
import { zonesRoutes } from './routes/zones.js';
import { ErrorSchema, type App } from './schemas.js';

/**
 * The admin API as a Fastify instance: routes under /v1 need a bearer token
 * (viewer for reads, operator for mutations); /healthz, /readyz, /metrics,
 * /openapi.json and /docs do not. Test with `app.inject` or `listen`.
 */
export async function buildApp(deps: Deps): Promise<App> {
  const { config } = deps;
  const https = config.API_TLS_CERT && config.API_TLS_KEY ? { https: { cert: readFileSync(config.API_TLS_CERT), key: readFileSync(config.API_TLS_KEY) } } : {};
  const opts = {
    loggerInstance: deps.log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.API_BODY_LIMIT_BYTES,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    ...https,
  } as FastifyHttpOptions<Server>;
  const app = Fastify(opts).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(ErrorSchema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Plinth admin API', version: deps.version, description: 'Read-only views of zones, capacity, nodes, volumes, snapshots and the operation queue, plus job retry/delete for operators.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A viewer token for GET, an operator token for POST/DELETE' } } },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(rateLimit, {
    global: true,
    max: config.API_RATE_LIMIT_MAX,
    timeWindow: config.API_RATE_LIMIT_WINDOW_MS,
    keyGenerator: (req) => req.ip,
    errorResponseBuilder: (_req, ctx) => new HttpError(ctx.statusCode, 'rate_limited', `too many requests: at most ${ctx.max} per ${ctx.after}; retry later`),
  });

  // Auth for /v1: 401 without a known token, 403 when the role is short.
  app.addHook('onRequest', (req, _reply, done) => {
    if (!req.url.startsWith('/v1/') && req.url !== '/v1') return done();
    const token = bearer(req.headers.authorization);
    const role = token === undefined ? undefined : deps.tokens.authenticate(token);
    if (!role) return done(new HttpError(401, 'unauthenticated', token === undefined ? 'an "Authorization: Bearer <token>" header is required' : 'the token is not valid'));
    const need = req.routeOptions.config.role ?? (req.method === 'GET' || req.method === 'HEAD' ? 'viewer' : 'operator');
    if (!allows(role, need)) return done(new HttpError(403, 'forbidden', `this needs the ${need} role; the token has ${role}`));
    req.role = role;
    done();
  });

  app.addHook('onResponse', (req, reply, done) => {
    deps.metrics.observeRequest(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toHttp(err);
    if (status >= 500) req.log.error({ err, route: req.routeOptions.url }, 'request failed');
    if (status === 401) void reply.header('www-authenticate', 'Bearer');
    if (status === 429 && err instanceof HttpError) return reply.code(429).send(body);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler({ preHandler: app.rateLimit() }, (req, reply) =>
    reply.code(404).send({ error: { code: 'route_not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );

  healthRoutes(app, deps);
  zonesRoutes(app, deps);
  capacityRoutes(app, deps);
  nodesRoutes(app, deps);
  volumesRoutes(app, deps);
  snapshotsRoutes(app, deps);
  jobsRoutes(app, deps);

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  await app.ready();
  return app;
}
