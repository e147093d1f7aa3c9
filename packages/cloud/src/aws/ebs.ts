import { EBSClient, paginateListChangedBlocks, paginateListSnapshotBlocks, type EBSClientConfig } from '@aws-sdk/client-ebs';
import type { Ec2Observer } from '../call.js';
import { ec2Code, isThrottle } from '../errors.js';
import type { BlockPage, SnapshotBlocks } from '../snapshot-blocks.js';
import { mapEbsError } from './ebs-errors.js';
import { proxyEnv, proxyHandler, type ProxyEnv } from './proxy.js';

export interface EbsSettings {
  region: string;
  /** Custom endpoint of the EBS direct APIs (the emulated Nitro host in tests). Unset: ebs.<region>.amazonaws.com. */
  endpoint?: string | undefined;
  /** SDK attempts per page; the SDK's standard retry strategy retries throttling, 5xx and dropped connections. */
  maxAttempts?: number | undefined;
  proxy?: ProxyEnv;
  observer?: Ec2Observer | undefined;
}

/** Times every attempt (inside the SDK's retries) for the same observer EC2 calls feed. */
function observe(client: EBSClient, observer: Ec2Observer): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const action = (context.commandName ?? 'EBS').replace(/Command$/, '');
      const t0 = performance.now();
      try {
        const out = await next(args);
        observer.onCall(action, 'ok', (performance.now() - t0) / 1000);
        return out;
      } catch (err) {
        observer.onCall(action, isThrottle(err) ? 'throttled' : 'error', (performance.now() - t0) / 1000, ec2Code(err));
        throw err;
      }
    },
    { step: 'deserialize', priority: 'high', name: 'plinthObserveEbs' },
  );
}

/** Pages of a paginator as BlockPages; a failure on any page becomes a domain error. */
async function* blockPages<P>(
  pages: AsyncIterable<P>,
  read: (page: P) => { blocks: number[]; BlockSize?: number | undefined; VolumeSize?: number | undefined },
  action: string,
  what: string,
): AsyncIterable<BlockPage> {
  try {
    for await (const page of pages) {
      const p = read(page);
      yield { blocks: p.blocks, blockBytes: p.BlockSize ?? 0, volumeSizeGiB: p.VolumeSize ?? 0 };
    }
  } catch (err) {
    throw mapEbsError(err, action, what);
  }
}

/**
 * The real SnapshotBlocks: the EBS direct APIs through @aws-sdk/client-ebs and
 * its paginators. Credentials come from the SDK's default chain, as for EC2.
 * These calls are not drawn from EC2's shared token buckets: the EBS direct
 * APIs have quotas of their own, and one stream reads its pages one by one.
 */
export function createAwsSnapshotBlocks(s: EbsSettings): SnapshotBlocks & { close(): void } {
  const cfg: EBSClientConfig = { region: s.region, maxAttempts: s.maxAttempts ?? 5 };
  if (s.endpoint) cfg.endpoint = s.endpoint;
  const handler = proxyHandler(s.endpoint ?? `https://ebs.${s.region}.amazonaws.com`, s.proxy ?? proxyEnv());
  if (handler) cfg.requestHandler = handler;
  const client = new EBSClient(cfg);
  if (s.observer) observe(client, s.observer);
  return {
    allocated(snapshotId, query, signal) {
      const pages = paginateListSnapshotBlocks(
        { client, pageSize: query.pageSize },
        { SnapshotId: snapshotId, StartingBlockIndex: query.startingBlock },
        ...(signal ? [{ abortSignal: signal }] : []),
      );
      return blockPages(pages, (p) => ({ ...p, blocks: (p.Blocks ?? []).map((b) => b.BlockIndex ?? 0) }), 'ListSnapshotBlocks', `snapshot ${snapshotId}`);
    },
    changed(baseId, targetId, query, signal) {
      const pages = paginateListChangedBlocks(
        { client, pageSize: query.pageSize },
        { FirstSnapshotId: baseId, SecondSnapshotId: targetId, StartingBlockIndex: query.startingBlock },
        ...(signal ? [{ abortSignal: signal }] : []),
      );
      return blockPages(
        pages,
        (p) => ({ ...p, blocks: (p.ChangedBlocks ?? []).map((b) => b.BlockIndex ?? 0) }),
        'ListChangedBlocks',
        `snapshots ${baseId} and ${targetId}`,
      );
    },
    close: () => client.destroy(),
  };
}
