import { computeCapacity, filterCapacity } from '@plinth/capacity';
import { VOLUME_TYPES } from '@plinth/cloud';
import { Type } from 'typebox';
import type { Deps } from '../deps.js';
import { ZONE } from '../ids.js';
import { bearerSecurity, Nullable, responses, type App, StringEnum } from '../schemas.js';

const CapacityEntrySchema = Type.Object({
  zone: Type.String(),
  type: Type.String(),
  provisionedGiB: Type.Integer({ description: "GiB of this cluster's volumes of the type in the zone" }),
  volumeCount: Type.Integer(),
  quotaGiB: Nullable(Type.Integer({ description: 'Regional EBS storage quota for the type (default from EC2 Service Quotas, or CAPACITY_QUOTAS_GIB)' })),
  regionProvisionedGiB: Type.Integer({ description: 'GiB of the type across the region, which the quota is measured against' }),
  availableGiB: Nullable(Type.Integer({ description: 'quotaGiB − regionProvisionedGiB, never below 0' })),
  minVolumeGiB: Nullable(Type.Integer()),
  maxVolumeGiB: Nullable(Type.Integer()),
  largestVolumeGiB: Nullable(Type.Integer({ description: 'Largest single volume that fits now' })),
});

const Query = Type.Object(
  {
    zone: Type.Optional(Type.String({ pattern: ZONE, description: 'Only this availability zone' })),
    type: Type.Optional(StringEnum(VOLUME_TYPES, { description: 'Only this volume type' })),
  },
  { additionalProperties: false },
);

const Body = Type.Object({
  clusterId: Type.String(),
  region: Type.String(),
  entries: Type.Array(CapacityEntrySchema),
});

/** Zones to report: the region's available zones plus any zone holding a volume. */
async function capacityZones(deps: Deps): Promise<string[]> {
  const zones = await deps.cloud.zones();
  return zones
    .filter((z) => z.zoneType === undefined || z.zoneType === 'availability-zone')
    .map((z) => z.name)
    .filter(Boolean);
}

export function capacityRoutes(app: App, deps: Deps): void {
  app.get(
    '/v1/capacity',
    {
      schema: {
        tags: ['capacity'],
        summary: 'Provisioned GiB, volume count, quota and available GiB per zone and volume type',
        description:
          'The same computation (@plinth/capacity) that CSI GetCapacity uses. Quotas are regional: availableGiB is the same for every zone of a type.',
        querystring: Query,
        security: bearerSecurity,
        response: responses(Body),
      },
    },
    async (req) => {
      const [volumes, zones] = await Promise.all([deps.cloud.volumes(), capacityZones(deps)]);
      const entries = computeCapacity(volumes, { quotasGiB: deps.quotasGiB, zones });
      return {
        clusterId: deps.config.PLINTH_CLUSTER_ID,
        region: deps.config.AWS_REGION,
        entries: filterCapacity(entries, { zone: req.query.zone, type: req.query.type }),
      };
    },
  );
}
