import type { Cloud as CloudApi } from '@plinth/cloud';
import { invalidArgument } from '@plinth/errors';
import { COPY_PARAMS } from './params/copy-params.js';

/** How long the account's region list is reused: regions are enabled or disabled by hand, rarely. */
const TTL_MS = 3600_000;
const lists = new WeakMap<CloudApi, { at: number; regions: Promise<string[]> }>();

/** The regions enabled for the account (DescribeRegions), asked at most once an hour per process. */
function enabledRegions(api: CloudApi): Promise<string[]> {
  const hit = lists.get(api);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.regions;
  const regions = api.regions.list();
  lists.set(api, { at: Date.now(), regions });
  // A failed look-up is not kept: the next call asks again.
  regions.catch(() => lists.delete(api));
  return regions;
}

/**
 * A copy's destination must be a region of the partition enabled for this account (what DescribeRegions lists):
 * INVALID_ARGUMENT naming the parameter otherwise, before any job is queued.
 */
export async function checkCopyRegion(api: CloudApi, region: string): Promise<void> {
  const known = await enabledRegions(api);
  if (!known.includes(region))
    throw invalidArgument(`parameter ${COPY_PARAMS.region}: "${region}" is not a region enabled for this account (${[...known].sort().join(', ')})`);
}
