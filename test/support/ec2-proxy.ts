import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Ec2ProxyOptions {
  /** Hold the upstream answer to these actions for this many ms before replying. */
  delayResponse?: Record<string, number>;
  /** Called when a request for an action has been forwarded upstream. */
  onForward?: (action: string) => void;
}

export interface Ec2Proxy {
  endpoint: string;
  /** Requests forwarded, by EC2 action. */
  calls: Map<string, number>;
  options: Ec2ProxyOptions;
  total(): number;
  reset(): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * A pass-through HTTP proxy in front of LocalStack's EC2 that counts calls by
 * action and can hold chosen answers back (to widen crash windows). Tests see
 * at the EC2 boundary exactly what Plinth sent.
 */
export async function startEc2Proxy(upstream: string, options: Ec2ProxyOptions = {}): Promise<Ec2Proxy> {
  const target = new URL(upstream);
  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? 'Unknown';
      calls.set(action, (calls.get(action) ?? 0) + 1);
      const up = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (upRes) => {
          void readBody(upRes).then(async (upBody) => {
            const delay = options.delayResponse?.[action];
            if (delay) await new Promise((r) => setTimeout(r, delay));
            res.writeHead(upRes.statusCode ?? 502, upRes.headers).end(upBody);
          });
        },
      );
      up.on('error', () => res.writeHead(502).end());
      up.end(body);
      options.onForward?.(action);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    options,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    reset: () => calls.clear(),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
