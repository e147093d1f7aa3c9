import { notFound } from '@plinth/errors';
import { IN_FLIGHT_STATES, JOB_STATES } from '@plinth/queue';
import { Type } from 'typebox';
import type { Deps } from '../deps.js';
import { JobIdParam } from '../ids.js';
import { jobView } from '../job-view.js';
import { bearerSecurity, Nullable, responses, type App, StringEnum } from '../schemas.js';

export const JobSchema = Type.Object({
  id: Type.String(),
  operation: Type.String({ description: 'create, delete, publish, unpublish…' }),
  key: Type.String({ description: 'The natural key the job is deduplicated by' }),
  state: Type.String(),
  outcome: Nullable(Type.Union([Type.Literal('ok'), Type.Literal('refused'), Type.Literal('failed')])),
  attemptsMade: Type.Integer(),
  attempts: Type.Integer(),
  error: Nullable(Type.Object({ kind: Type.String(), message: Type.String() })),
  data: Type.Unknown(),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
  durationMs: Nullable(Type.Integer()),
});

const StateEnum = StringEnum(JOB_STATES);

const ListQuery = Type.Object(
  {
    state: Type.Optional(StateEnum),
    operation: Type.Optional(Type.String({ pattern: '^[a-z][a-z-]{0,40}$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);

const RetryBody = Type.Object(
  {
    resetAttempts: Type.Optional(Type.Boolean({ description: 'Start the attempt count from zero (default true)' })),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Why, for the audit log' })),
  },
  { additionalProperties: false },
);

async function getJob(deps: Deps, id: string) {
  const job = await deps.jobs.get(id);
  if (!job) throw notFound(`job ${id} not found (it may have been removed after its retention period)`);
  return job;
}

export function jobsRoutes(app: App, deps: Deps): void {
  app.get(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Queue depth by state and operation, and in-flight and failed jobs with error and attempts',
        querystring: ListQuery,
        security: bearerSecurity,
        response: responses(
          Type.Object({
            counts: Type.Record(Type.String(), Type.Integer()),
            depth: Type.Array(Type.Object({ state: Type.String(), operation: Type.String(), count: Type.Integer() })),
            items: Type.Array(JobSchema),
          }),
        ),
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 50;
      const states = req.query.state ? [req.query.state] : [...IN_FLIGHT_STATES, 'failed' as const];
      const [counts, rows, page] = await Promise.all([
        deps.jobs.counts(),
        deps.jobs.depth(),
        deps.jobs.list({ states, limit, ...(req.query.operation ? { operation: req.query.operation } : {}) }),
      ]);
      return { counts, depth: rows.filter((r) => !req.query.operation || r.operation === req.query.operation), items: page.items.map(jobView) };
    },
  );

  app.get(
    '/v1/jobs/:id',
    { schema: { tags: ['jobs'], summary: 'One job', params: JobIdParam, security: bearerSecurity, response: responses(JobSchema) } },
    async (req) => {
      return jobView(await getJob(deps, req.params.id));
    },
  );

  app.post(
    '/v1/jobs/:id/retry',
    {
      config: { role: 'operator' },
      // A POST without a body is the same as {}.
      preValidation: (req, _reply, done) => {
        req.body ??= {};
        done();
      },
      schema: {
        tags: ['jobs'],
        summary: 'Retry a failed job (operator)',
        params: JobIdParam,
        body: RetryBody,
        security: bearerSecurity,
        response: responses(JobSchema),
      },
    },
    async (req) => {
      const job = await deps.jobs.retry(req.params.id, { resetAttempts: req.body.resetAttempts ?? true });
      deps.log.info({ job: job.id, operation: job.operation, key: job.key, role: req.role, reason: req.body.reason }, 'job retried by operator');
      return jobView(job);
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      config: { role: 'operator' },
      schema: {
        tags: ['jobs'],
        summary: 'Remove a job that is not running (operator)',
        params: JobIdParam,
        security: bearerSecurity,
        response: responses(
          Type.Object({ id: Type.String(), removed: Type.Literal(true), state: Type.String({ description: 'The state it was removed from' }) }),
        ),
      },
    },
    async (req) => {
      const job = await deps.jobs.cancel(req.params.id);
      deps.log.info({ job: job.id, operation: job.operation, key: job.key, state: job.state, role: req.role }, 'job removed by operator');
      return { id: req.params.id, removed: true as const, state: job.state };
    },
  );
}
