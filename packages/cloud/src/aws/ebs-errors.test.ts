import {
  AccessDeniedException,
  ConflictException,
  InternalServerException,
  RequestThrottledException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ValidationException,
} from '@aws-sdk/client-ebs';
import { describe, expect, it } from 'vitest';
import { causeCode } from '../errors.js';
import { mapEbsError } from './ebs-errors.js';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const mapped = (err: unknown) => {
  const e = mapEbsError(err, 'ListChangedBlocks', 'snapshots snap-a and snap-b');
  return { kind: e.kind, message: e.message, code: causeCode(e) };
};

describe('mapEbsError', () => {
  it('maps each EBS direct API refusal to the domain error a user can act on, naming the reason', () => {
    expect(mapped(new ResourceNotFoundException({ ...meta(404), message: 'gone', Reason: 'SNAPSHOT_NOT_FOUND' }))).toEqual({
      kind: 'NotFound',
      message: 'snapshots snap-a and snap-b not found (ListChangedBlocks: ResourceNotFoundException SNAPSHOT_NOT_FOUND)',
      code: 'ResourceNotFoundException',
    });
    expect(mapped(new ValidationException({ ...meta(400), message: 'not related', Reason: 'UNRELATED_SNAPSHOTS' }))).toMatchObject({
      kind: 'InvalidArgument',
      message: 'ListChangedBlocks rejected for snapshots snap-a and snap-b (ValidationException UNRELATED_SNAPSHOTS): not related',
    });
    expect(mapped(new AccessDeniedException({ ...meta(403), message: 'no', Reason: 'UNAUTHORIZED_ACCOUNT' })).message).toMatch(
      /^ListChangedBlocks not permitted .* the controller's role needs ebs:ListChangedBlocks$/,
    );
    expect(mapped(new ServiceQuotaExceededException({ ...meta(402), message: 'q', Reason: 'DEPENDENCY_SERVICE_QUOTA_EXCEEDED' })).kind).toBe(
      'ResourceExhausted',
    );
    expect(mapped(new ConflictException({ ...meta(409), message: 'c' })).kind).toBe('Aborted');
  });

  it('makes throttling and server errors that outlived the retries UNAVAILABLE, an endpoint without the APIs UNIMPLEMENTED, anything else INTERNAL', () => {
    expect(mapped(new RequestThrottledException({ ...meta(400), message: 'slow down', Reason: 'ACCOUNT_THROTTLED' })).kind).toBe('Unavailable');
    expect(mapped(new InternalServerException({ ...meta(500), message: 'oops' })).kind).toBe('Unavailable');
    const localstack = Object.assign(
      new Error('The API for service ebs is either not included in your current license plan or has not yet been emulated by LocalStack.'),
      {
        name: 'InternalFailure',
        ...meta(501),
      },
    );
    expect(mapped(localstack)).toMatchObject({ kind: 'Unimplemented', message: 'this EBS endpoint does not offer ListChangedBlocks (the EBS direct APIs)' });
    expect(mapped(new TypeError('x is undefined'))).toMatchObject({
      kind: 'Internal',
      message: 'EBS ListChangedBlocks for snapshots snap-a and snap-b failed (TypeError)',
    });
  });
});
