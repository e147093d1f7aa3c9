import type { CallOptions, Client, Metadata, ServiceError } from '@grpc/grpc-js';
import { Metadata as Md } from '@grpc/grpc-js';

export interface UnaryOptions {
  /** Deadline in ms from now (default 30 s). */
  timeoutMs?: number;
}

type UnaryMethod<Req, Res> = (
  req: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

/** Calls a unary method of a ts-proto grpc-js client as a promise, with a deadline. */
export function callUnary<C extends Client, Req, Res>(
  client: C,
  method: UnaryMethod<Req, Res>,
  req: Req,
  opts: UnaryOptions = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + (opts.timeoutMs ?? 30_000));
    method.call(client, req, new Md(), { deadline }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
