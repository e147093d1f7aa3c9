import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { notFound } from '@plinth/errors';
import { createLogger } from '@plinth/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlockMetadataType,
  SnapshotMetadataClient,
  SnapshotMetadataService,
  type GetMetadataAllocatedRequest,
  type GetMetadataAllocatedResponse,
  type GetMetadataDeltaRequest,
  type GetMetadataDeltaResponse,
} from './gen/csi.js';
import { serveUnix, type UnixServer } from './server.js';
import { serverStream } from './stream.js';

const log = createLogger({ name: 'test', level: 'silent' });
const msg = (i: number): GetMetadataAllocatedResponse => ({
  blockMetadataType: BlockMetadataType.FIXED_LENGTH,
  volumeCapacityBytes: 1024,
  blockMetadata: [{ byteOffset: i * 16, sizeBytes: 16 }],
});

/** Reads a whole stream: its messages, and the error that ended it if any. */
function read<T>(stream: NodeJS.ReadableStream): Promise<{ messages: T[]; error?: ServiceError }> {
  return new Promise((resolve) => {
    const messages: T[] = [];
    stream.on('data', (m: T) => messages.push(m));
    stream.on('error', (error: ServiceError) => resolve({ messages, error }));
    stream.on('end', () => resolve({ messages }));
  });
}

describe('serverStream', () => {
  let dir: string;
  let server: UnixServer;
  let client: SnapshotMetadataClient;
  const observed: string[] = [];
  let cancelledAfter: number | undefined;
  let cancelSeen: () => void = () => undefined;
  const cancelled = new Promise<void>((r) => (cancelSeen = r));
  let cancelObserved: () => void = () => undefined;
  const cancelLogged = new Promise<void>((r) => (cancelObserved = r));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plinth-stream-'));
    const endpoint = `unix://${join(dir, 'csi.sock')}`;
    server = await serveUnix(
      endpoint,
      [
        {
          definition: SnapshotMetadataService,
          implementation: {
            // snapshot_id says what to do: "n:<count>", "fail-after:<count>", "boom", "endless".
            getMetadataAllocated: serverStream<GetMetadataAllocatedRequest, GetMetadataAllocatedResponse>(
              'GetMetadataAllocated',
              async (req, send) => {
                const [what, n] = req.snapshotId.split(':');
                if (what === 'boom') throw new Error('secret detail at /srv/x.ts:1');
                if (what === 'endless') {
                  let i = 0;
                  try {
                    for (;;) await send(msg(i++));
                  } finally {
                    cancelledAfter = i;
                    cancelSeen();
                  }
                }
                for (let i = 0; i < Number(n); i++) await send(msg(i));
                if (what === 'fail-after') throw notFound(`snapshot after ${n} not found`);
              },
              log,
              (method, code) => {
                observed.push(`${method} ${code}`);
                if (code === 'CANCELLED') cancelObserved();
              },
            ),
            getMetadataDelta: serverStream<GetMetadataDeltaRequest, GetMetadataDeltaResponse>('GetMetadataDelta', () => Promise.resolve(), log),
          },
        },
      ],
      log,
    );
    client = new SnapshotMetadataClient(endpoint, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await server?.close(1000);
    await rm(dir, { recursive: true, force: true });
  });

  const call = (snapshotId: string) => client.getMetadataAllocated({ snapshotId, startingOffset: 0, maxResults: 0, secrets: {} });

  it('delivers every message in order, then ends the stream OK', async () => {
    const { messages, error } = await read<GetMetadataAllocatedResponse>(call('n:300'));
    expect(error).toBeUndefined();
    expect(messages.map((m) => m.blockMetadata[0]!.byteOffset)).toEqual(Array.from({ length: 300 }, (_, i) => i * 16));
    expect(observed).toContain('GetMetadataAllocated OK');
  });

  it('ends with the domain error code and message after the messages already sent', async () => {
    const { messages, error } = await read(call('fail-after:3'));
    expect(messages).toHaveLength(3);
    expect(error?.code).toBe(status.NOT_FOUND);
    expect(error?.details).toBe('snapshot after 3 not found');
  });

  it('sends INTERNAL without the foreign message or a stack', async () => {
    const { error } = await read(call('boom'));
    expect(error?.code).toBe(status.INTERNAL);
    expect(error?.details).toBe('internal error');
  });

  it('stops the handler when the client cancels', async () => {
    const stream = call('endless');
    let got = 0;
    stream.on('data', () => {
      if (++got === 5) stream.cancel();
    });
    stream.on('error', () => undefined);
    await cancelled;
    expect(cancelledAfter).toBeGreaterThanOrEqual(5);
    await cancelLogged;
    expect(observed.filter((o) => o.endsWith('CANCELLED'))).toEqual(['GetMetadataAllocated CANCELLED']);
  });
});
