/**
 * The emulated Nitro host's view of EC2 calls: an HTTP proxy in front of the EC2 endpoint (LocalStack or moto)
 * that forwards every request unchanged and, for CreateSnapshot, copies the volume's bytes at the moment of the
 * call (see NitroHost.captureForSnapshot), so a snapshot holds exactly what was written before CreateSnapshot
 * returned; for CreateVolume from a snapshot, gives the new volume the snapshot's bytes once EC2 has named it
 * (NitroHost.fillFromSnapshot). Point the controller's EC2_ENDPOINT at `url`.
 */
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { NitroHost } from './emulator.js';

export interface Ec2Proxy {
  url: string;
  /**
   * CreateSnapshot calls seen: the volume, the snapshot EC2 named, and when EC2's answer was passed back (ms since
   * the epoch, and seconds of /proc/uptime: the clock a Pod on this host can read too).
   */
  snapshots: { volumeId: string; snapshotId?: string; returnedAt: number; returnedUptime: number }[];
  close(): Promise<void>;
}

const body = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

const uptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

export async function startEc2Proxy(o: { target: string; nitro: NitroHost; log?: (m: string) => void }): Promise<Ec2Proxy> {
  const target = new URL(o.target);
  const snapshots: Ec2Proxy['snapshots'] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const payload = await body(req);
      const form = new URLSearchParams(payload.toString('utf8'));
      const createSnapshot = form.get('Action') === 'CreateSnapshot' ? form.get('VolumeId') : null;
      const file = createSnapshot ? await o.nitro.captureForSnapshot(createSnapshot).catch(() => undefined) : undefined;
      const fromSnapshot = form.get('Action') === 'CreateVolume' ? form.get('SnapshotId') : null;
      const up = request(
        { protocol: target.protocol, hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          void (async () => {
            const text = await body(answer);
            if (createSnapshot) {
              const id = answer.statusCode === 200 ? /<snapshotId>(snap-[0-9a-zA-Z]+)<\/snapshotId>/.exec(text.toString('utf8'))?.[1] : undefined;
              await file?.(id).catch((e: Error) => o.log?.(`snapshot capture of ${createSnapshot}: ${e.message}`));
              snapshots.push({ volumeId: createSnapshot, snapshotId: id, returnedAt: Date.now(), returnedUptime: uptime() });
            }
            const volumeId =
              fromSnapshot && answer.statusCode === 200 ? /<volumeId>(vol-[0-9a-zA-Z]+)<\/volumeId>/.exec(text.toString('utf8'))?.[1] : undefined;
            if (fromSnapshot && volumeId)
              await o.nitro.fillFromSnapshot(volumeId, fromSnapshot).catch((e: Error) => o.log?.(`restore of ${fromSnapshot} into ${volumeId}: ${e.message}`));
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(text);
          })();
        },
      );
      up.on('error', (e) => {
        void file?.(undefined);
        res.writeHead(502);
        res.end(e.message);
      });
      up.end(payload);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    snapshots,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
