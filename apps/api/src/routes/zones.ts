import { listNodes } from '@plinth/nodes';
import { Type, type Static } from 'typebox';
import type { Deps } from '../deps.js';
import { bearerSecurity, responses, StringEnum, type App } from '../schemas.js';

const Zone = Type.Object({
  name: Type.String(),
  id: Type.String({ description: 'Zone id (e.g. use1-az1), the same physical zone across accounts' }),
  state: Type.String(),
  knownToEc2: Type.Boolean({ description: 'False when a node or volume names a zone EC2 did not list' }),
  nodes: Type.Array(
    Type.Object({
      instanceId: Type.String(),
      instanceType: Type.String(),
      attachLimit: Type.Integer({ description: 'Registered limit; for a node only Kubernetes knows, its CSINode count (0 when unknown)' }),
      source: StringEnum(['redis', 'kubernetes'] as const),
    }),
  ),
  volumeCount: Type.Integer(),
  provisionedGiB: Type.Integer(),
  byType: Type.Array(Type.Object({ type: Type.String(), volumeCount: Type.Integer(), provisionedGiB: Type.Integer() })),
});

export function zonesRoutes(app: App, deps: Deps): void {
  app.get(
    '/v1/zones',
    {
      schema: {
        tags: ['zones'],
        summary: "Availability zones with this cluster's nodes and provisioned volumes in each",
        security: bearerSecurity,
        response: responses(Type.Object({ region: Type.String(), clusterId: Type.String(), zones: Type.Array(Zone) })),
      },
    },
    async () => {
      const [azs, volumes, nodes, kube] = await Promise.all([deps.cloud.zones(), deps.cloud.volumes(), listNodes(deps.redis), deps.kube?.nodes()]);
      type Row = Static<typeof Zone>;
      const rows = new Map<string, Row>();
      const row = (name: string, id = '', state = 'unknown', known = false): Row => {
        let r = rows.get(name);
        if (!r) {
          r = { name, id, state, knownToEc2: known, nodes: [], volumeCount: 0, provisionedGiB: 0, byType: [] };
          rows.set(name, r);
        }
        return r;
      };
      for (const z of azs) if (z.name) row(z.name, z.id, z.state, true);
      for (const n of nodes)
        row(n.zone || 'unknown').nodes.push({ instanceId: n.instanceId, instanceType: n.instanceType, attachLimit: n.attachLimit, source: 'redis' });
      const registered = new Set(nodes.map((n) => n.instanceId));
      for (const k of kube ?? [])
        if (k.instanceId && !registered.has(k.instanceId))
          row(k.zone ?? 'unknown').nodes.push({
            instanceId: k.instanceId,
            instanceType: k.instanceType ?? '',
            attachLimit: k.allocatable ?? 0,
            source: 'kubernetes',
          });
      for (const v of volumes) {
        const r = row(v.zone || 'unknown');
        const size = v.sizeGiB;
        r.volumeCount++;
        r.provisionedGiB += size;
        const type = v.type || 'unknown';
        let t = r.byType.find((x) => x.type === type);
        if (!t) r.byType.push((t = { type, volumeCount: 0, provisionedGiB: 0 }));
        t.volumeCount++;
        t.provisionedGiB += size;
      }
      const zones = [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
      for (const z of zones) z.byType.sort((a, b) => a.type.localeCompare(b.type));
      return { region: deps.config.AWS_REGION, clusterId: deps.config.PLINTH_CLUSTER_ID, zones };
    },
  );
}
