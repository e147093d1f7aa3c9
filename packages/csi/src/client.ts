import { Metadata, type CallOptions, type Client, type ServiceError } from '@grpc/grpc-js';

export interface UnaryOptions {
  /** Deadline in ms from now (default 30 s). */
  timeoutMs?: number;
}

// ts-proto's client methods are overloaded; conditional types read the last overload: (req, metadata, options, callback).
type Unary<Req, Res> = (req: Req, metadata: Metadata, options: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown;
type Last<F> = F extends (req: infer Req, metadata: Metadata, options: Partial<CallOptions>, cb: (err: ServiceError | null, res: infer Res) => void) => unknown
  ? [Req, Res]
  : never;
type UnaryKeys<C> = { [K in keyof C]: Last<C[K]> extends never ? never : K }[keyof C];

/**
 * Calls a unary method of a ts-proto grpc-js client as a promise, with a deadline.
 * Name the method (`callUnary(client, 'createVolume', req)`) or pass it (`client.createVolume`).
 */
export function callUnary<C extends Client, K extends UnaryKeys<C>>(client: C, method: K, req: Last<C[K]>[0], opts?: UnaryOptions): Promise<Last<C[K]>[1]>;
export function callUnary<C extends Client, Req, Res>(client: C, method: Unary<Req, Res>, req: Req, opts?: UnaryOptions): Promise<Res>;
export function callUnary(client: Client, method: string | Unary<unknown, unknown>, req: unknown, opts: UnaryOptions = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + (opts.timeoutMs ?? 30_000));
    const fn = typeof method === 'string' ? ((client as unknown as Record<string, Unary<unknown, unknown>>)[method] as Unary<unknown, unknown>) : method;
    fn.call(client, req, new Metadata(), { deadline }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
