import { readFileSync } from 'node:fs';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyError, type FastifyHttpOptions, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Server } from 'node:http';
import { allows, bearer, describeWindow } from './auth.js';
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

/** Longest path parameter the router takes (Fastify's default); ids are far shorter. */
const MAX_PARAM_LENGTH = 100;

function frameworkError(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH')
    void reply.code(414).send({ error: { code: 'uri_too_long', message: `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` } });
  else void reply.code(400).send({ error: { code: 'invalid_argument', message: 'the URL is not valid (bad percent-encoding in the path)' } });
}

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
    // A URL the router cannot take (a path parameter past maxParamLength, bad percent-encoding) is answered by
    // Fastify itself, before any hook: give it the API's error body, not Fastify's own (found by the fuzz tier).
    frameworkErrors: frameworkError,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    ...https,
  } as FastifyHttpOptions<Server>;
  const app = Fastify(opts).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(ErrorSchema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Plinth admin API',
        version: deps.version,
        description: 'Read-only views of zones, capacity, nodes, volumes, snapshots and the operation queue, plus job retry/delete for operators.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A viewer token for GET, an operator token for POST/DELETE' } } },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const window = describeWindow(config.API_RATE_LIMIT_WINDOW_MS);
  const retryIn = (ttlMs: number): string => `retry in ${Math.max(1, Math.ceil(ttlMs / 1000))} s`;
  await app.register(rateLimit, {
    global: true,
    max: config.API_RATE_LIMIT_MAX,
    timeWindow: config.API_RATE_LIMIT_WINDOW_MS,
    keyGenerator: (req) => req.ip,
    errorResponseBuilder: (_req, ctx) =>
      new HttpError(ctx.statusCode, 'rate_limited', `too many requests: at most ${ctx.max} per ${window}; ${retryIn(ctx.ttl)}`),
  });

  // Failed authentications per client IP, in a budget of their own: requests
  // that fail auth never reach the route's limiter, so without it a token
  // could be guessed at any speed. Once an IP has spent the budget, every
  // /v1 request from it is 429 until the window ends, a correct token
  // included: answering a correct token differently would let guessing go on.
  const authFailures = app.createRateLimit({
    max: config.API_AUTH_FAILURE_LIMIT,
    timeWindow: config.API_RATE_LIMIT_WINDOW_MS,
    keyGenerator: (req) => req.ip,
  });
  const throttled = (ttlMs: number) =>
    new HttpError(
      429,
      'rate_limited',
      `too many failed authentications from this address: at most ${config.API_AUTH_FAILURE_LIMIT} per ${window}; ${retryIn(ttlMs)}`,
    );

  // Auth for /v1: 401 without a known token, 403 when the role is short.
  // An unknown route is 404 for every role (the not-found handler answers it).
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/') && req.url !== '/v1') return;
    const spent = await authFailures(req, { increment: false });
    if (!spent.isAllowed && spent.remaining === 0) {
      void reply.header('retry-after', Math.max(1, Math.ceil(spent.ttl / 1000)));
      throw throttled(spent.ttl);
    }
    const token = bearer(req.headers.authorization);
    const role = token === undefined ? undefined : deps.tokens.authenticate(token);
    if (!role) {
      const counted = await authFailures(req);
      if (!counted.isAllowed && counted.remaining === 0)
        req.log.warn({ ip: req.ip, limit: config.API_AUTH_FAILURE_LIMIT }, 'failed-authentication budget spent; this address gets 429 until the window ends');
      throw new HttpError(401, 'unauthenticated', token === undefined ? 'an "Authorization: Bearer <token>" header is required' : 'the token is not valid');
    }
    req.role = role;
    if (req.is404) return;
    const need = req.routeOptions.config.role ?? (req.method === 'GET' || req.method === 'HEAD' ? 'viewer' : 'operator');
    if (!allows(role, need)) throw new HttpError(403, 'forbidden', `this needs the ${need} role; the token has ${role}`);
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
