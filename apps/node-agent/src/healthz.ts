import { createServer, type Server } from 'node:http';
import { credentials } from '@grpc/grpc-js';
import { callUnary, IdentityClient } from '@plinth/csi';
import type { Logger } from '@plinth/logger';

/** How long one Probe over the socket may take (livenessprobe's --probe-timeout in the chart). */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Built-in liveness endpoint (what the livenessprobe sidecar serves): `GET /healthz` calls Probe through the agent's
 * own CSI socket, as the kubelet and the sidecars reach it, so a wedged gRPC server or a removed socket fails it.
 * 200 `ok` when Probe answers ready, 500 with the reason otherwise.
 */
export async function serveHealthz(csiEndpoint: string, addr: { host: string; port: number }, log: Logger): Promise<Server> {
  const socket = csiEndpoint.startsWith('unix://') ? csiEndpoint : `unix://${csiEndpoint}`;
  const client = new IdentityClient(socket, credentials.createInsecure());
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/healthz') {
      res.writeHead(404);
      res.end();
      return;
    }
    callUnary(client, 'probe', {}, { timeoutMs: PROBE_TIMEOUT_MS }).then(
      (r) => {
        const ready = r.ready ?? true;
        res.writeHead(ready ? 200 : 500, { 'content-type': 'text/plain' });
        res.end(ready ? 'ok' : 'not ready');
      },
      (err: Error) => {
        log.warn({ err: err.message }, 'healthz: Probe failed');
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`Probe failed: ${err.message}`);
      },
    );
  });
  server.on('close', () => client.close());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => resolve());
  });
  log.info({ address: `${addr.host}:${addr.port}` }, 'healthz listening');
  return server;
}
