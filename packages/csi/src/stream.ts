import { status, type handleServerStreamingCall, type ServerWritableStream } from '@grpc/grpc-js';
import { deadlineExceeded } from '@plinth/errors';
import { stripSecrets, type Logger } from '@plinth/logger';
import { toGrpcStatus } from './status.js';
import { CODE_NAMES, deadlineOf, type CallContext, type RpcObserver } from './unary.js';

/** Sends one message of a server stream; resolves once the stream can take more (gRPC flow control). */
export type Send<Res> = (res: Res) => Promise<void>;

/** Resolves when the stream can take more, rejects when the call ends first (cancelled by the client). */
function drained<Req, Res>(call: ServerWritableStream<Req, Res>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', stop);
      resolve();
    };
    const stop = (): void => {
      call.off('drain', done);
      reject(signal.reason as Error);
    };
    call.on('drain', done);
    signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Wraps an async handler as a grpc-js server-streaming handler: the streaming
 * twin of `unary`, with the same logging (CSI secrets stripped), error mapping
 * (domain errors to their codes, anything else INTERNAL without details) and
 * metrics. The handler sends through `send`, which waits while the client is
 * slow to read and fails once the client has cancelled; its promise settling
 * ends the stream (OK) or fails it with the error's status.
 */
export function serverStream<Req, Res>(
  method: string,
  fn: (req: Req, send: Send<Res>, ctx: CallContext) => Promise<void>,
  log: Logger,
  observe?: RpcObserver,
): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) => {
    const started = performance.now();
    const ac = new AbortController();
    const deadline = deadlineOf(call);
    call.on('cancelled', () => ac.abort(new Error('cancelled')));
    let timer: NodeJS.Timeout | undefined;
    if (Number.isFinite(deadline)) {
      timer = setTimeout(() => ac.abort(new Error('deadline exceeded')), Math.max(0, deadline - Date.now()));
      timer.unref();
    }
    let messages = 0;
    const finish = (code: status, details?: string): void => {
      if (timer) clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const codeName = CODE_NAMES.get(code) ?? String(code);
      observe?.(method, codeName, seconds);
      const level = code === status.OK ? 'info' : code === status.INTERNAL ? 'error' : 'warn';
      log[level]({ method, code: codeName, messages, ms: Math.round(seconds * 1000), ...(details ? { details } : {}) }, 'rpc done');
    };
    const send: Send<Res> = async (res) => {
      ac.signal.throwIfAborted();
      messages++;
      if (!call.write(res)) await drained(call, ac.signal);
    };
    log.debug({ method, req: stripSecrets(call.request) }, 'rpc start');
    fn(call.request, send, { deadline, signal: ac.signal, method }).then(
      () => {
        finish(status.OK);
        call.end();
      },
      (err: unknown) => {
        if (ac.signal.aborted && call.cancelled) {
          finish(status.CANCELLED, 'cancelled by the client');
          return;
        }
        const st = ac.signal.aborted ? toGrpcStatus(deadlineExceeded(`${method} passed its deadline after ${messages} messages`)) : toGrpcStatus(err);
        if (st.code === status.INTERNAL) log.error({ method, err }, 'internal error');
        finish(st.code, st.details);
        call.emit('error', st);
      },
    );
  };
}
