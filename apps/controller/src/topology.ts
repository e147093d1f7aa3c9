import { invalidArgument } from '@plinth/errors';
import type { TopologyRequirement } from '@plinth/csi';

export const ZONE_KEY = 'topology.kubernetes.io/zone';
export const LEGACY_ZONE_KEY = 'topology.ebs.csi.aws.com/zone';
/** The zone by its ID (e.g. use1-az1), as aws-ebs-csi-driver and the AWS cloud controller manager spell it. */
export const ZONE_ID_KEY = 'topology.k8s.aws/zone-id';

function zoneOf(segments: Record<string, string>): string | undefined {
  return segments[ZONE_KEY] ?? segments[LEGACY_ZONE_KEY];
}

/**
 * The zone to create a volume in: the first preferred topology with a zone,
 * else the first requisite one, else `fallback`. Preferred zones outside a
 * non-empty requisite list are skipped.
 */
export function pickZone(req: TopologyRequirement | undefined, fallback: string): string {
  const requisite = requisiteZones(req);
  for (const t of req?.preferred ?? []) {
    const z = zoneOf(t.segments);
    if (z && (requisite.length === 0 || requisite.includes(z))) return z;
  }
  if (requisite[0]) return requisite[0];
  if ((req?.requisite?.length ?? 0) > 0 || (req?.preferred?.length ?? 0) > 0) {
    throw invalidArgument(`accessibility_requirements: no segment carries ${ZONE_KEY}, ${LEGACY_ZONE_KEY} or ${ZONE_ID_KEY}`);
  }
  return fallback;
}

/** The zones the requisite topologies name (empty: any zone will do). */
export function requisiteZones(req: TopologyRequirement | undefined): string[] {
  return [...new Set((req?.requisite ?? []).map((t) => zoneOf(t.segments)).filter((z): z is string => !!z))];
}

export function topologyFor(zone: string): { segments: Record<string, string> } {
  return { segments: { [ZONE_KEY]: zone, [LEGACY_ZONE_KEY]: zone } };
}

/**
 * The zone of a clone: its source's (EBS copies a volume within its zone).
 * A requisite topology without that zone is INVALID_ARGUMENT; preferred
 * zones elsewhere are passed over.
 */
export function cloneZone(sourceZone: string, requisite: string[], what: string): string {
  if (requisite.length > 0 && !requisite.includes(sourceZone))
    throw invalidArgument(
      `accessibility_requirements: the source ${what} is in zone ${sourceZone}, outside the requisite zones (${requisite.join(', ')}); a clone is made in its source's zone`,
    );
  return sourceZone;
}

/** Where a new volume goes and where it may be: a clone in its source's zone, any other volume in the zone its topology picks. */
export function placement(
  req: TopologyRequirement | undefined,
  fallback: string,
  source: { zone?: string | undefined; what: string } | undefined,
): { zone: string; allowedZones: string[] } {
  const allowedZones = requisiteZones(req);
  const zone = source?.zone ? cloneZone(source.zone, allowedZones, source.what) : pickZone(req, fallback);
  return { zone, allowedZones };
}

/**
 * The requirement with each `topology.k8s.aws/zone-id` segment also given
 * its zone name (looked up once with DescribeAvailabilityZones, only when a
 * segment has a zone ID and no name). An ID this region lacks is
 * INVALID_ARGUMENT naming it.
 */
export async function withZoneNames(
  deps: { cloud: { api: { zones: { list(opts?: { all?: boolean }): Promise<{ name: string; id: string }[]> } } } },
  req: TopologyRequirement | undefined,
): Promise<TopologyRequirement | undefined> {
  const all = [...(req?.requisite ?? []), ...(req?.preferred ?? [])];
  if (!req || !all.some((t) => t.segments[ZONE_ID_KEY] !== undefined && zoneOf(t.segments) === undefined)) return req;
  const names = new Map((await deps.cloud.api.zones.list({ all: true })).map((z) => [z.id, z.name]));
  const named = (t: { segments: Record<string, string> }) => {
    const id = t.segments[ZONE_ID_KEY];
    if (id === undefined || zoneOf(t.segments) !== undefined) return t;
    const name = names.get(id);
    if (!name) throw invalidArgument(`accessibility_requirements: ${ZONE_ID_KEY} "${id}" is not a zone ID of this region (${[...names.keys()].join(', ')})`);
    return { ...t, segments: { ...t.segments, [ZONE_KEY]: name } };
  };
  return { ...req, requisite: (req.requisite ?? []).map(named), preferred: (req.preferred ?? []).map(named) };
}
