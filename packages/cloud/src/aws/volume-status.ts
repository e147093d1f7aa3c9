import { DescribeVolumeStatusCommand, type VolumeStatusItem } from '@aws-sdk/client-ec2';
import { isPlinthError } from '@plinth/errors';
import type { Ec2 } from './ec2.js';
import { unsupportedAsUnimplemented } from '../errors.js';

const FILTER_CHUNK = 200;

/**
 * EC2's volume status checks (DescribeVolumeStatus: `ok`, `warning`,
 * `impaired`, `insufficient-data`, with the io-enabled / io-performance
 * details and any scheduled events), through the adapter's rate limiter and
 * retries. Volumes are selected by filter, so an id that no longer exists
 * never fails the others. Where the endpoint does not implement the action
 * (LocalStack, moto), `get` answers undefined at once instead of retrying a
 * 501, and asks again only after `recheckMs`.
 */
export class VolumeStatuses {
  private unsupportedUntil = 0;

  constructor(
    private readonly ec2: Ec2,
    private readonly recheckMs = 600_000,
  ) {}

  /** Status items by volume id (ids EC2 reports nothing for are absent); undefined when the endpoint has no status checks. */
  async get(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, VolumeStatusItem> | undefined> {
    const found = new Map<string, VolumeStatusItem>();
    if (ids.length === 0) return found;
    if (Date.now() < this.unsupportedUntil) return undefined;
    try {
      for (let i = 0; i < ids.length; i += FILTER_CHUNK) {
        const part = [...new Set(ids.slice(i, i + FILTER_CHUNK))];
        let token: string | undefined;
        do {
          const res = await this.ec2.send(
            'DescribeVolumeStatus',
            `status of volumes ${part.join(',')}`,
            // A domain error is never retried: the 501 must not spend the retry budget.
            (s) =>
              unsupportedAsUnimplemented('DescribeVolumeStatus', () =>
                this.ec2.client.send(
                  new DescribeVolumeStatusCommand({ Filters: [{ Name: 'volume-id', Values: part }], ...(token ? { NextToken: token } : {}) }),
                  { abortSignal: s },
                ),
              ),
            signal,
          );
          for (const item of res.VolumeStatuses ?? []) if (item.VolumeId && part.includes(item.VolumeId)) found.set(item.VolumeId, item);
          token = res.NextToken;
        } while (token);
      }
    } catch (err) {
      if (isPlinthError(err) && err.kind === 'Unimplemented') {
        this.unsupportedUntil = Date.now() + this.recheckMs;
        return undefined;
      }
      throw err;
    }
    return found;
  }
}
