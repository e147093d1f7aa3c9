import { status } from '@grpc/grpc-js';
import { alreadyExists, invalidArgument, notFound, outOfRange, resourceExhausted } from '@plinth/errors';
import { describe, expect, it } from 'vitest';
import { toGrpcStatus } from './status.js';

describe('toGrpcStatus', () => {
  it('maps each domain error to its gRPC code and keeps the message', () => {
    expect(toGrpcStatus(invalidArgument('name is required'))).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'name is required' });
    expect(toGrpcStatus(notFound('volume vol-1 not found')).code).toBe(status.NOT_FOUND);
    expect(toGrpcStatus(alreadyExists('x')).code).toBe(status.ALREADY_EXISTS);
    expect(toGrpcStatus(resourceExhausted('x')).code).toBe(status.RESOURCE_EXHAUSTED);
    expect(toGrpcStatus(outOfRange('x')).code).toBe(status.OUT_OF_RANGE);
  });

  it('never sends a foreign error message or stack over the wire', () => {
    const err = new TypeError("Cannot read properties of undefined (reading 'x')");
    const st = toGrpcStatus(err);
    expect(st.code).toBe(status.INTERNAL);
    expect(st.details).toBe('internal error');
    expect(st.details).not.toContain('at ');
  });
});
