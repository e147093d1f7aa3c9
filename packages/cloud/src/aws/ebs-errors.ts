import {
  AccessDeniedException,
  ConcurrentLimitExceededException,
  ConflictException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ValidationException,
} from '@aws-sdk/client-ebs';
import {
  aborted,
  failedPrecondition,
  invalidArgument,
  isPlinthError,
  notFound,
  PlinthError,
  resourceExhausted,
  unavailable,
  unimplemented,
} from '@plinth/errors';
import { isTransient, isUnsupportedAction } from '../errors.js';

/**
 * Maps a failed EBS direct API call to a domain error a user can act on, by
 * the SDK's error classes and their `Reason`. `what` names the resource, e.g.
 * "snapshot snap-…".
 */
export function mapEbsError(err: unknown, action: string, what: string): PlinthError {
  if (isPlinthError(err)) return err;
  const cause = { cause: err };
  const reason = (err as { Reason?: unknown }).Reason;
  const why = (code: string): string => (typeof reason === 'string' ? `${code} ${reason}` : code);
  if (err instanceof ResourceNotFoundException) return notFound(`${what} not found (${action}: ${why(err.name)})`, cause);
  if (err instanceof ValidationException) return invalidArgument(`${action} rejected for ${what} (${why(err.name)}): ${err.message}`, cause);
  if (err instanceof AccessDeniedException) {
    return failedPrecondition(`${action} not permitted for ${what} (${why(err.name)}); the controller's role needs ebs:${action}`, cause);
  }
  if (err instanceof ServiceQuotaExceededException || err instanceof ConcurrentLimitExceededException) {
    return resourceExhausted(`${action} for ${what}: EBS direct API limit reached (${why(err.name)}); retry later`, cause);
  }
  if (err instanceof ConflictException) return aborted(`${action} for ${what} conflicted (${err.name}); retry`, cause);
  // LocalStack's community edition answers the EBS direct APIs 501 ("not included in your current license plan").
  if (isUnsupportedAction(err)) return unimplemented(`this EBS endpoint does not offer ${action} (the EBS direct APIs)`, cause);
  const code = err instanceof Error ? err.name : 'Unknown';
  if (code === 'AbortError') return unavailable(`${action} for ${what} was cancelled`, cause);
  if (isTransient(err)) return unavailable(`EBS ${action} for ${what} is unavailable (${code}); retry later`, cause);
  return new PlinthError('Internal', `EBS ${action} for ${what} failed (${code})`, cause);
}
