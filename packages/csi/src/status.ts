import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { PlinthError, type ErrorKind } from '@plinth/errors';

const CODES: Record<ErrorKind, status> = {
  InvalidArgument: status.INVALID_ARGUMENT,
  NotFound: status.NOT_FOUND,
  AlreadyExists: status.ALREADY_EXISTS,
  FailedPrecondition: status.FAILED_PRECONDITION,
  ResourceExhausted: status.RESOURCE_EXHAUSTED,
  OutOfRange: status.OUT_OF_RANGE,
  Aborted: status.ABORTED,
  Unavailable: status.UNAVAILABLE,
  DeadlineExceeded: status.DEADLINE_EXCEEDED,
  Unimplemented: status.UNIMPLEMENTED,
  Internal: status.INTERNAL,
};

/**
 * The wire status for any thrown value. Domain errors keep their message;
 * anything else becomes INTERNAL with a generic message, so no stack trace or
 * internal detail ever crosses the wire.
 */
export function toGrpcStatus(err: unknown): Partial<StatusObject> & { code: status; details: string } {
  if (err instanceof PlinthError) {
    return { code: CODES[err.kind], details: err.message, metadata: new Metadata() };
  }
  return { code: status.INTERNAL, details: 'internal error', metadata: new Metadata() };
}

const KIND_BY_CODE = new Map<number, ErrorKind>(Object.entries(CODES).map(([k, v]) => [v, k as ErrorKind]));

/** A gRPC client error as a domain error (for clients such as the CLI and tests). */
export function fromGrpcError(err: ServiceError): PlinthError {
  return new PlinthError(KIND_BY_CODE.get(err.code) ?? 'Internal', err.details || err.message);
}
