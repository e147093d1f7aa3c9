import { invalidArgument, notFound, unavailable } from '@plinth/errors';
import { describe, expect, it } from 'vitest';
import { HttpError, toHttp } from './errors.js';

describe('errors at the HTTP edge', () => {
  it('maps domain errors to status and stable code', () => {
    expect(toHttp(notFound('volume vol-1 not found'))).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'volume vol-1 not found' } } });
    expect(toHttp(invalidArgument('x')).status).toBe(400);
    expect(toHttp(unavailable('EC2 down')).body.error.code).toBe('unavailable');
  });

  it('names the field of a validation error', () => {
    const pattern = toHttp({
      statusCode: 400,
      validationContext: 'params',
      validation: [{ instancePath: '/id', keyword: 'pattern', message: 'must match pattern "^vol-"' }],
    });
    expect(pattern).toEqual({
      status: 400,
      body: { error: { code: 'invalid_argument', message: 'params.id must match pattern "^vol-"', field: 'params.id' } },
    });
    const extra = toHttp({
      validationContext: 'querystring',
      validation: [{ instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'zoen' } }],
    });
    expect(extra.body.error).toMatchObject({ field: 'query.zoen', message: 'query.zoen is not a known field' });
    const body = toHttp({ validationContext: 'body', validation: [{ instancePath: '/resetAttempts', keyword: 'type', message: 'must be boolean' }] });
    expect(body.body.error.field).toBe('body.resetAttempts');
  });

  it('never passes on an unknown error or its stack', () => {
    const err = new Error('ECONNREFUSED 10.0.0.1:6379 at Socket.connect (/app/x.js:1:1)');
    const out = toHttp(err);
    expect(out).toEqual({ status: 500, body: { error: { code: 'internal', message: 'internal error' } } });
    expect(JSON.stringify(out)).not.toContain('at Socket');
  });

  it('keeps edge errors and Fastify client errors', () => {
    expect(toHttp(new HttpError(403, 'forbidden', 'needs operator')).status).toBe(403);
    expect(toHttp({ statusCode: 413, message: 'Request body is too large' }).body.error.code).toBe('payload_too_large');
    expect(toHttp({ statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY', message: 'Body is not valid JSON' }).body.error.code).toBe('invalid_body');
  });
});
