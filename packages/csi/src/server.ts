import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from '@plinth/logger';

export interface ServiceBinding {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface UnixServer {
  server: Server;
  socketPath: string;
  /** Stops accepting calls, lets in-flight calls finish for up to graceMs, then forces. */
  close(graceMs?: number): Promise<void>;
}

/** Removes a leftover socket from an earlier run; refuses to remove anything that is not a socket. */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to remove it`);
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function parseEndpoint(endpoint: string): string {
  return endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : endpoint;
}

/** Serves the given services on a unix socket with mode 0600. */
export async function serveUnix(endpoint: string, services: ServiceBinding[], log: Logger): Promise<UnixServer> {
  const socketPath = parseEndpoint(endpoint);
  await mkdir(dirname(socketPath), { recursive: true });
  await removeStaleSocket(socketPath);
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  for (const s of services) server.addService(s.definition, s.implementation);
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
  });
  await chmod(socketPath, 0o600);
  log.info({ socket: socketPath }, 'listening');
  return {
    server,
    socketPath,
    async close(graceMs = 10_000) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await unlink(socketPath).catch(() => undefined);
    },
  };
}
