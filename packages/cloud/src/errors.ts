import {
  aborted,
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  isPlinthError,
  notFound,
  PlinthError,
  resourceExhausted,
  unavailable,
  unimplemented,
} from '@plinth/errors';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

/** The error code EC2 put on a failed call (`Code` in the XML body), if any. */
export function ec2Code(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; Code?: unknown; code?: unknown };
  for (const v of [e.Code, e.name, e.code]) if (typeof v === 'string' && v !== 'Error') return v;
  return undefined;
}

type SdkError = Parameters<typeof isThrottlingError>[0];

/** A thrown value the SDK's error classification can judge (SDK service errors, Node network errors, the in-memory cloud's faults). */
const asSdkError = (err: unknown): SdkError | undefined => (err instanceof Error && !isPlinthError(err) ? (err as SdkError) : undefined);

/** Throttling, as the SDK classifies it (RequestLimitExceeded, HTTP 429, …). */
export function isThrottle(err: unknown): boolean {
  const e = asSdkError(err);
  return e !== undefined && isThrottlingError(e);
}

/** Worth retrying at the call level, as the SDK's own retry strategy judges it: throttling, 5xx, timeouts, dropped connections. */
export function isTransient(err: unknown): boolean {
  const e = asSdkError(err);
  return e !== undefined && (isThrottlingError(e) || isTransientError(e) || isServerError(e));
}

/**
 * Maps a failed EC2 call to a domain error with a message a user can act on.
 * `what` names the resource the call was about, e.g. "volume vol-123".
 */
export function mapEc2Error(err: unknown, action: string, what: string): PlinthError {
  if (isPlinthError(err)) return err;
  const code = ec2Code(err) ?? 'Unknown';
  const cause = { cause: err };
  const detail = err instanceof Error && err.message ? `: ${err.message}` : '';
  switch (code) {
    case 'InvalidVolume.NotFound':
    case 'InvalidInstanceID.NotFound':
    case 'InvalidSnapshot.NotFound':
    case 'InvalidAttachment.NotFound':
      return notFound(`${what} not found (${action}: ${code})`, cause);
    case 'InvalidInstanceID.Malformed':
    case 'InvalidVolumeID.Malformed':
    case 'InvalidParameterValue':
    case 'InvalidParameterCombination':
    case 'InvalidParameter':
    case 'MissingParameter':
    case 'InvalidZone.NotFound':
    case 'InvalidAvailabilityZone':
    case 'UnknownVolumeType':
      return invalidArgument(`${action} rejected for ${what} (${code})${detail}`, cause);
    case 'VolumeInUse':
    case 'IncorrectState':
    case 'IncorrectInstanceState':
    case 'InvalidVolume.ZoneMismatch':
    case 'OperationNotPermitted':
    case 'UnauthorizedOperation':
    case 'KMSKeyNotAccessibleFault':
    case 'InvalidKMSKey.NotFound':
      return failedPrecondition(`${action} not possible for ${what} (${code})${detail}`, cause);
    case 'IdempotentParameterMismatch':
      return alreadyExists(`${what} exists with other parameters (${code})`, cause);
    case 'VolumeLimitExceeded':
    case 'AttachmentLimitExceeded':
    case 'InsufficientVolumeCapacity':
    case 'MaxIOPSLimitExceeded':
    case 'SnapshotLimitExceeded':
    case 'ResourceLimitExceeded':
      return resourceExhausted(`${action} for ${what}: EC2 limit reached (${code})${detail}`, cause);
    case 'ConcurrentTagAccess':
      return aborted(`${action} for ${what} conflicted with another change (${code}); retry`, cause);
    default:
      if (isTransient(err)) return unavailable(`EC2 ${action} for ${what} is unavailable (${code}); retry later`, cause);
      return new PlinthError('Internal', `EC2 ${action} for ${what} failed (${code})`, { cause: err });
  }
}

/** The EC2 error code behind a mapped domain error, if it came from EC2. */
export function causeCode(err: unknown): string | undefined {
  return ec2Code((err as { cause?: unknown } | null)?.cause);
}

/**
 * True when EC2 (or an emulator) does not offer the action at all: AWS answers
 * InvalidAction / UnsupportedOperation, LocalStack 501 "not implemented".
 */
export function isUnsupportedAction(err: unknown): boolean {
  const code = ec2Code(err);
  if (code === 'InvalidAction' || code === 'UnsupportedOperation' || code === 'NotImplemented') return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status === 501 || (err instanceof Error && /not (been )?implemented/i.test(err.message));
}

/** Sends `call`; an action the endpoint does not offer becomes UNIMPLEMENTED at once (never retried as a 5xx). */
export function unsupportedAsUnimplemented<T>(action: string, call: () => Promise<T>): Promise<T> {
  return call().catch((err: unknown) => {
    if (isUnsupportedAction(err)) throw unimplemented(`this EC2 endpoint does not offer ${action}`, { cause: err });
    throw err;
  });
}

/**
 * An EC2 error answer as the in-memory cloud raises it: the code where the
 * SDK puts it (`name`) and the HTTP status, so it is classified and mapped
 * exactly as a real one.
 */
export class Ec2Fault extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
  }
}
