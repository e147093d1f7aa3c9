import type { ErrorKind } from '@plinth/errors';
import { isPlinthError } from '@plinth/errors';

/** The JSON body of every error the API returns: a stable code, a message, and the offending field when there is one. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** An error raised at the HTTP edge itself (auth, routing, conflicts on jobs). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const BY_KIND: Record<ErrorKind, { status: number; code: string }> = {
  InvalidArgument: { status: 400, code: 'invalid_argument' },
  OutOfRange: { status: 400, code: 'out_of_range' },
  NotFound: { status: 404, code: 'not_found' },
  AlreadyExists: { status: 409, code: 'already_exists' },
  FailedPrecondition: { status: 409, code: 'failed_precondition' },
  Aborted: { status: 409, code: 'aborted' },
  ResourceExhausted: { status: 429, code: 'resource_exhausted' },
  Unavailable: { status: 503, code: 'unavailable' },
  DeadlineExceeded: { status: 504, code: 'deadline_exceeded' },
  Unimplemented: { status: 501, code: 'unimplemented' },
  Internal: { status: 500, code: 'internal' },
};

interface ValidationItem {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
  validation?: ValidationItem[];
  validationContext?: string;
}

const CONTEXT: Record<string, string> = { querystring: 'query', params: 'params', body: 'body', headers: 'headers' };

/** "query.limit", "params.id", "body.resetAttempts" from an Ajv error. */
function fieldOf(context: string | undefined, v: ValidationItem): string {
  const parts = [CONTEXT[context ?? ''] ?? context ?? 'request'];
  const path = (v.instancePath ?? '').split('/').filter(Boolean);
  parts.push(...path);
  const extra = v.params?.missingProperty ?? v.params?.additionalProperty;
  if (typeof extra === 'string') parts.push(extra);
  return parts.join('.');
}

function validationMessage(field: string, v: ValidationItem): string {
  if (v.keyword === 'additionalProperties') return `${field} is not a known field`;
  if (v.keyword === 'required') return `${field} is required`;
  if (v.keyword === 'enum' && Array.isArray(v.params?.allowedValues))
    return `${field} must be one of ${(v.params.allowedValues as unknown[]).map(String).join(', ')}`;
  return `${field} ${v.message ?? 'is invalid'}`;
}

/**
 * Any thrown value as a status and a JSON body. Domain errors map by kind;
 * Fastify's own errors (validation, body too large, bad JSON) keep their
 * status; anything else is a 500 with a generic message. Never a stack.
 */
export function toHttp(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof HttpError)
    return { status: err.status, body: { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } } };
  if (isPlinthError(err)) {
    const m = BY_KIND[err.kind];
    return { status: m.status, body: { error: { code: m.code, message: err.message } } };
  }
  const e = (err ?? {}) as FastifyLikeError;
  const first = e.validation?.[0];
  if (first) {
    const field = fieldOf(e.validationContext, first);
    return { status: 400, body: { error: { code: 'invalid_argument', message: validationMessage(field, first), field } } };
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return { status, body: { error: { code: 'payload_too_large', message: 'request body is larger than the limit' } } };
  if (status === 415) return { status, body: { error: { code: 'unsupported_media_type', message: e.message ?? 'unsupported content type' } } };
  if (status === 429) return { status, body: { error: { code: 'rate_limited', message: 'too many requests; slow down and retry' } } };
  if (status >= 400 && status < 500) {
    const code = e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'invalid_body' : 'bad_request';
    return { status, body: { error: { code, message: e.message ?? 'bad request' } } };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
}
