import { status, type handleUnaryCall, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { stripSecrets, type Logger } from '@plinth/logger';
import { toGrpcStatus } from './status.js';

export interface CallContext {
  /** Absolute deadline of the call in ms since epoch (Infinity when the client set none). */
  deadline: number;
  /** Aborted when the client cancels or the deadline passes. */
  signal: AbortSignal;
  method: string;
}

/** Polled often by sidecars; their successes are logged at debug only. */
const QUIET = new Set(['Probe', 'GetPluginInfo', 'GetPluginCapabilities', 'ControllerGetCapabilities', 'NodeGetCapabilities']);

/** Called once per finished RPC, e.g. to feed a latency histogram. */
export type RpcObserver = (method: string, code: string, seconds: number) => void;

/** A call's deadline in ms since epoch (Infinity when the client set none). */
export function deadlineOf(call: Pick<ServerUnaryCall<unknown, unknown>, 'getDeadline'>): number {
  const d = call.getDeadline();
  if (d instanceof Date) return d.getTime();
  if (typeof d === 'number' && Number.isFinite(d)) return d;
  return Infinity;
}

/** gRPC status codes by number → name (OK, NOT_FOUND, …), for logs and metrics. */
export const CODE_NAMES = new Map<number, string>(
  Object.entries(status)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k]),
);

/**
 * Wraps an async handler as a grpc-js unary handler: one place for logging
 * (with CSI secrets stripped), error mapping and metrics.
 */
export function unary<Req, Res>(
  method: string,
  fn: (req: Req, ctx: CallContext) => Promise<Res>,
  log: Logger,
  observe?: RpcObserver,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const started = performance.now();
    const ac = new AbortController();
    const deadline = deadlineOf(call);
    call.on('cancelled', () => ac.abort(new Error('cancelled')));
    let timer: NodeJS.Timeout | undefined;
    if (Number.isFinite(deadline)) {
      timer = setTimeout(() => ac.abort(new Error('deadline exceeded')), Math.max(0, deadline - Date.now()));
      timer.unref();
    }
    const finish = (code: status, details?: string): void => {
      if (timer) clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const codeName = CODE_NAMES.get(code) ?? String(code);
      observe?.(method, codeName, seconds);
      const level = code === status.OK ? (QUIET.has(method) ? 'debug' : 'info') : code === status.INTERNAL ? 'error' : 'warn';
      log[level]({ method, code: codeName, ms: Math.round(seconds * 1000), ...(details ? { details } : {}) }, 'rpc done');
    };
    log.debug({ method, req: stripSecrets(call.request) }, 'rpc start');
    fn(call.request, { deadline, signal: ac.signal, method }).then(
      (res) => {
        finish(status.OK);
        callback(null, res);
      },
      (err: unknown) => {
        const st = toGrpcStatus(err);
        if (st.code === status.INTERNAL) log.error({ method, err }, 'internal error');
        finish(st.code, st.details);
        callback(st, null);
      },
    );
  };
}
