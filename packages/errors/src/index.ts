/**
 * Plinth's domain errors. Code deep in the driver throws these; only the
 * transport edge (gRPC in @plinth/csi, HTTP in the admin API) maps them to
 * wire codes. Messages are written for the user: they name the field or the
 * resource and say what to do. They never carry a stack over the wire.
 */
export type ErrorKind =
  | 'InvalidArgument'
  | 'NotFound'
  | 'AlreadyExists'
  | 'FailedPrecondition'
  | 'ResourceExhausted'
  | 'OutOfRange'
  | 'Aborted'
  | 'Unavailable'
  | 'DeadlineExceeded'
  | 'Unimplemented'
  | 'Internal';

export class PlinthError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = `${kind}Error`;
  }

  /** A plain object that survives JSON (used to pass errors through job results). */
  toJSON(): SerializedError {
    return { kind: this.kind, message: this.message };
  }
}

export interface SerializedError {
  kind: ErrorKind;
  message: string;
}

const make =
  (kind: ErrorKind) =>
  (message: string, options?: { cause?: unknown }): PlinthError =>
    new PlinthError(kind, message, options);

export const invalidArgument = make('InvalidArgument');
export const notFound = make('NotFound');
export const alreadyExists = make('AlreadyExists');
export const failedPrecondition = make('FailedPrecondition');
export const resourceExhausted = make('ResourceExhausted');
export const outOfRange = make('OutOfRange');
export const aborted = make('Aborted');
export const unavailable = make('Unavailable');
export const deadlineExceeded = make('DeadlineExceeded');
export const unimplemented = make('Unimplemented');
export const internal = make('Internal');

const KINDS: ReadonlySet<string> = new Set<ErrorKind>([
  'InvalidArgument',
  'NotFound',
  'AlreadyExists',
  'FailedPrecondition',
  'ResourceExhausted',
  'OutOfRange',
  'Aborted',
  'Unavailable',
  'DeadlineExceeded',
  'Unimplemented',
  'Internal',
]);

export function isPlinthError(err: unknown): err is PlinthError {
  return err instanceof PlinthError;
}

/** Rebuilds a PlinthError from its JSON form; anything unrecognised becomes Internal. */
export function fromSerialized(value: unknown): PlinthError {
  if (typeof value === 'object' && value !== null) {
    const { kind, message } = value as Record<string, unknown>;
    if (typeof kind === 'string' && KINDS.has(kind) && typeof message === 'string') {
      return new PlinthError(kind as ErrorKind, message);
    }
  }
  return internal('internal error');
}

/** Any thrown value as a PlinthError; unknown errors become Internal with a generic message. */
export function toPlinthError(err: unknown, fallbackMessage = 'internal error'): PlinthError {
  if (err instanceof PlinthError) return err;
  return internal(fallbackMessage, { cause: err });
}
