import { largestVolumeGiB } from '@plinth/capacity';
import { invalidArgument } from '@plinth/errors';
import {
  VolumeCapability_AccessMode_Mode as Mode,
  type CallContext,
  type GetCapacityRequest,
  type GetCapacityResponse,
  type Topology,
  type VolumeCapability,
} from '@plinth/csi';
import { capabilityProblem } from '../access.js';
import { GiB } from '../capacity.js';
import type { Deps } from '../deps.js';
import { limitsOf } from '../params/volume-types.js';
import { resolveIops } from '../params/iops.js';
import { parseVolumeParams, type VolumeParams } from '../params/volume-params.js';
import { LEGACY_ZONE_KEY, ZONE_KEY } from '../topology.js';

/** Keys Kubernetes reserves in StorageClass parameters (secret references, fstype); external-provisioner strips them before CreateVolume but not here. */
const CO_PREFIX = 'csi.storage.k8s.io/';

/**
 * The capabilities to honour. external-provisioner sends one placeholder
 * (mount, access mode UNKNOWN) because the field is mandatory for it; a
 * capability without an access mode constrains nothing. Any other must be
 * one CreateVolume would accept for this type.
 */
function checkCapabilities(caps: VolumeCapability[], params: VolumeParams): void {
  for (const cap of caps) {
    const mode = cap.accessMode?.mode;
    if (mode === undefined || mode === Mode.UNKNOWN) continue;
    const problem = capabilityProblem(cap, params.type);
    if (problem) throw invalidArgument(`volume_capabilities: ${problem}`);
  }
}

/** The zone a topology names, under either zone key; undefined for no topology. */
function zoneOf(t: Topology | undefined): string | undefined {
  const segments = t?.segments ?? {};
  if (Object.keys(segments).length === 0) return undefined;
  const zone = segments[ZONE_KEY];
  const legacy = segments[LEGACY_ZONE_KEY];
  if (zone && legacy && zone !== legacy) throw invalidArgument(`accessible_topology: ${ZONE_KEY} "${zone}" and ${LEGACY_ZONE_KEY} "${legacy}" disagree`);
  if (!zone && !legacy) throw invalidArgument(`accessible_topology: no segment carries ${ZONE_KEY} or ${LEGACY_ZONE_KEY}`);
  return zone || legacy;
}

/** Whether CreateVolume would accept these parameters for a volume of `sizeGiB` (IOPS against the size). */
function fits(params: VolumeParams, sizeGiB: number): boolean {
  try {
    resolveIops(params, sizeGiB);
    return true;
  } catch {
    return false;
  }
}

/**
 * The smallest volume these parameters allow: the type's minimum, raised
 * where the IOPS asked for need more GiB (e.g. gp3 at 16000 IOPS needs 32
 * GiB). INVALID_ARGUMENT, as from CreateVolume, when no size fits.
 */
function smallestGiB(params: VolumeParams): number {
  const { minGiB, maxGiB } = limitsOf(params.type);
  resolveIops(params, maxGiB);
  let lo = minGiB;
  let hi = maxGiB;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(params, mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * GetCapacity: for the StorageClass parameters' volume type (gp3 by
 * default, as CreateVolume) in the topology's zone, the regional EBS quota
 * for the type minus what this cluster has provisioned of it
 * (@plinth/capacity; totals cached for CAPACITY_CACHE_TTL_MS). Quotas are
 * regional, so every zone of the region answers the same. A zone EC2 does
 * not know is INVALID_ARGUMENT, as CreateVolume there would be; a zone EC2
 * lists but reports unavailable has no capacity.
 */
export async function getCapacity(deps: Deps, req: GetCapacityRequest, ctx: CallContext): Promise<GetCapacityResponse> {
  const params = parseVolumeParams(Object.fromEntries(Object.entries(req.parameters).filter(([k]) => !k.toLowerCase().startsWith(CO_PREFIX))));
  checkCapabilities(req.volumeCapabilities, params);
  const minGiB = smallestGiB(params);
  const zone = zoneOf(req.accessibleTopology);
  if (zone !== undefined) {
    const zones = await deps.capacity.zones(ctx.signal);
    const found = zones.find((z) => z.name === zone);
    if (!found)
      throw invalidArgument(`accessible_topology: zone "${zone}" is not a zone of ${deps.config.AWS_REGION} (${zones.map((z) => z.name).join(', ')})`);
    if (found.state !== 'available') return { availableCapacity: 0, maximumVolumeSize: 0, minimumVolumeSize: minGiB * GiB };
  }
  const entry = await deps.capacity.entry(zone, params.type, ctx.signal);
  const available = entry.availableGiB ?? 0;
  return {
    availableCapacity: available * GiB,
    maximumVolumeSize: largestVolumeGiB(available, minGiB, entry.maxVolumeGiB ?? limitsOf(params.type).maxGiB) * GiB,
    minimumVolumeSize: minGiB * GiB,
  };
}
