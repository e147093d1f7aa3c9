/**
 * The EBS direct APIs of the emulated Nitro host: an HTTP endpoint speaking
 * EBS's REST protocol (what @aws-sdk/client-ebs sends) that answers from the
 * snapshot copies the host keeps (`<dataDir>/<snapshotId>.img`), at EBS's
 * block size of 512 KiB:
 *
 * - ListSnapshotBlocks (GET /snapshots/{id}/blocks): the blocks that are not
 *   all zeros;
 * - ListChangedBlocks (GET /snapshots/{second}/changedblocks?firstSnapshotId=):
 *   the blocks whose bytes differ between the two copies; snapshots of
 *   different volumes are refused (ValidationException UNRELATED_SNAPSHOTS);
 * - GetSnapshotBlock (GET /snapshots/{id}/blocks/{index}?blockToken=): a
 *   block's bytes with their SHA256 checksum.
 *
 * Pages follow MaxResults (100–10000, as EBS allows) and NextToken;
 * StartingBlockIndex is honoured. A snapshot EC2 does not know, or one the
 * host has not copied (it asks the host to sync once first), is
 * ResourceNotFoundException SNAPSHOT_NOT_FOUND. A snapshot's volume and size
 * come from EC2 (DescribeSnapshots). Real EBS reports blocks written between
 * snapshots even when the bytes came out the same; this endpoint compares
 * bytes, so what it reports is exactly what changed.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2';

const BLOCK = 512 * 1024;
const GiB = 1024 ** 3;
const PAGE_MIN = 100;
const PAGE_MAX = 10_000;

export interface EbsDirectOptions {
  ec2: EC2Client;
  /** The host's copy of a snapshot's bytes. */
  fileOf(snapshotId: string): string;
  /** Asks the host to copy snapshots it has not seen yet (NitroHost.sync). */
  sync(): Promise<void>;
  log?: (msg: string) => void;
}

export interface EbsDirect {
  /** http://127.0.0.1:<port>, for the EBS client's endpoint (EBS_ENDPOINT). */
  endpoint: string;
  close(): Promise<void>;
}

class EbsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const notFound = (id: string): EbsError => new EbsError(404, 'ResourceNotFoundException', 'SNAPSHOT_NOT_FOUND', `The snapshot '${id}' does not exist.`);
const invalid = (reason: string, message: string): EbsError => new EbsError(400, 'ValidationException', reason, message);

interface Snap {
  id: string;
  volumeId: string;
  sizeGiB: number;
  file: FileHandle;
}

const ZERO = Buffer.alloc(BLOCK);

/** Reads block `i` of a copy (zeros past its end) into `buf`. */
async function readBlock(s: Snap, i: number, buf: Buffer): Promise<Buffer> {
  buf.fill(0);
  await s.file.read(buf, 0, BLOCK, i * BLOCK);
  return buf;
}

const token = (next: number): string => Buffer.from(JSON.stringify({ next })).toString('base64url');
function untoken(t: string): number {
  try {
    const v = (JSON.parse(Buffer.from(t, 'base64url').toString()) as { next?: unknown }).next;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  } catch {
    /* falls through */
  }
  throw invalid('INVALID_PAGE_TOKEN', 'The pagination token is not valid.');
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw invalid('INVALID_PARAMETER_VALUE', `${name} must be a non-negative integer`);
  return Number(v);
}

export async function startEbsDirect(opts: EbsDirectOptions): Promise<EbsDirect> {
  const log = opts.log ?? (() => undefined);

  const describe = async (id: string): Promise<{ volumeId: string; sizeGiB: number } | undefined> => {
    if (!/^snap-[0-9a-f]+$/.test(id)) throw invalid('INVALID_SNAPSHOT_ID', `The snapshot ID '${id}' is not valid.`);
    try {
      const res = await opts.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
      const s = res.Snapshots?.find((x) => x.SnapshotId === id);
      return s?.VolumeId ? { volumeId: s.VolumeId, sizeGiB: s.VolumeSize ?? 0 } : undefined;
    } catch (err) {
      if ((err as { name?: string }).name === 'InvalidSnapshot.NotFound') return undefined;
      throw err;
    }
  };

  const openSnap = async (id: string): Promise<Snap> => {
    const meta = await describe(id);
    if (!meta) throw notFound(id);
    const tryOpen = (): Promise<FileHandle | undefined> => open(opts.fileOf(id), 'r').catch(() => undefined);
    let file = await tryOpen();
    if (!file) {
      await opts.sync();
      file = await tryOpen();
    }
    if (!file) throw notFound(id);
    return { id, ...meta, file };
  };

  /** Blocks from `from` on for which `keep` holds, at most `max`; the next block to scan when the page filled. */
  const scan = async (blocks: number, from: number, max: number, keep: (i: number) => Promise<boolean>): Promise<{ found: number[]; next?: number }> => {
    const found: number[] = [];
    for (let i = from; i < blocks; i++) {
      if (!(await keep(i))) continue;
      found.push(i);
      if (found.length === max) return i + 1 < blocks ? { found, next: i + 1 } : { found };
    }
    return { found };
  };

  const page = (q: URLSearchParams): { from: number; max: number } => {
    const max = intParam(q, 'maxResults') ?? PAGE_MAX;
    if (max < PAGE_MIN || max > PAGE_MAX) throw invalid('INVALID_PARAMETER_VALUE', `MaxResults must be between ${PAGE_MIN} and ${PAGE_MAX}`);
    const pageToken = q.get('pageToken');
    return { from: pageToken ? untoken(pageToken) : (intParam(q, 'startingBlockIndex') ?? 0), max };
  };

  const listSnapshotBlocks = async (id: string, q: URLSearchParams): Promise<object> => {
    const { from, max } = page(q);
    const s = await openSnap(id);
    try {
      const buf = Buffer.alloc(BLOCK);
      const { found, next } = await scan((s.sizeGiB * GiB) / BLOCK, from, max, async (i) => !(await readBlock(s, i, buf)).equals(ZERO));
      return {
        Blocks: found.map((i) => ({ BlockIndex: i, BlockToken: Buffer.from(`${id}:${i}`).toString('base64url') })),
        VolumeSize: s.sizeGiB,
        BlockSize: BLOCK,
        ExpiryTime: Date.now() / 1000 + 600,
        ...(next !== undefined ? { NextToken: token(next) } : {}),
      };
    } finally {
      await s.file.close();
    }
  };

  const listChangedBlocks = async (second: string, q: URLSearchParams): Promise<object> => {
    const first = q.get('firstSnapshotId');
    if (!first) throw invalid('INVALID_PARAMETER_VALUE', 'this endpoint needs firstSnapshotId');
    const { from, max } = page(q);
    const a = await openSnap(first);
    try {
      const b = await openSnap(second);
      try {
        if (a.volumeId !== b.volumeId) throw invalid('UNRELATED_SNAPSHOTS', `The snapshots ${first} and ${second} are not of the same volume.`);
        const bufA = Buffer.alloc(BLOCK);
        const bufB = Buffer.alloc(BLOCK);
        const blocks = (Math.max(a.sizeGiB, b.sizeGiB) * GiB) / BLOCK;
        const { found, next } = await scan(blocks, from, max, async (i) => !(await readBlock(a, i, bufA)).equals(await readBlock(b, i, bufB)));
        return {
          ChangedBlocks: found.map((i) => ({
            BlockIndex: i,
            FirstBlockToken: Buffer.from(`${first}:${i}`).toString('base64url'),
            SecondBlockToken: Buffer.from(`${second}:${i}`).toString('base64url'),
          })),
          VolumeSize: b.sizeGiB,
          BlockSize: BLOCK,
          ExpiryTime: Date.now() / 1000 + 600,
          ...(next !== undefined ? { NextToken: token(next) } : {}),
        };
      } finally {
        await b.file.close();
      }
    } finally {
      await a.file.close();
    }
  };

  const getSnapshotBlock = async (id: string, index: number, res: ServerResponse): Promise<void> => {
    const s = await openSnap(id);
    try {
      if (index >= (s.sizeGiB * GiB) / BLOCK) throw invalid('INVALID_BLOCK', `block ${index} is beyond the snapshot`);
      const data = await readBlock(s, index, Buffer.alloc(BLOCK));
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'x-amz-Data-Length': String(BLOCK),
        'x-amz-Checksum': createHash('sha256').update(data).digest('base64'),
        'x-amz-Checksum-Algorithm': 'SHA256',
      });
      res.end(data);
    } finally {
      await s.file.close();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://ebs');
    const json = (body: object): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'GET' && parts[0] === 'snapshots' && parts.length === 3 && parts[2] === 'blocks')
      return json(await listSnapshotBlocks(parts[1]!, url.searchParams));
    if (req.method === 'GET' && parts[0] === 'snapshots' && parts.length === 3 && parts[2] === 'changedblocks')
      return json(await listChangedBlocks(parts[1]!, url.searchParams));
    if (req.method === 'GET' && parts[0] === 'snapshots' && parts.length === 4 && parts[2] === 'blocks' && /^\d+$/.test(parts[3]!)) {
      return getSnapshotBlock(parts[1]!, Number(parts[3]), res);
    }
    throw new EbsError(400, 'ValidationException', 'INVALID_PARAMETER_VALUE', `this endpoint does not offer ${req.method} ${url.pathname}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof EbsError ? err : new EbsError(500, 'InternalServerException', '', (err as Error).message);
      if (e.status >= 500) log(`EBS direct ${req.method} ${req.url} failed: ${e.message}`);
      res.writeHead(e.status, { 'content-type': 'application/json', 'x-amzn-ErrorType': e.type });
      res.end(JSON.stringify({ message: e.message, ...(e.reason ? { Reason: e.reason } : {}) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
