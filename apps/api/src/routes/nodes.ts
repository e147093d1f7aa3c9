import { notFound } from '@plinth/errors';
import { listNodes } from '@plinth/nodes';
import { Type } from 'typebox';
import type { Deps } from '../deps.js';
import { InstanceIdParam, ZONE } from '../ids.js';
import type { KubeNode } from '../kube.js';
import { nodeView, type NodeView } from '../node-view.js';
import { bearerSecurity, Nullable, responses, type App } from '../schemas.js';

const Breakdown = Type.Object({
  typeLimit: Type.Integer({ description: "EBS attachments the instance type allows (EC2's MaximumEbsAttachments)" }),
  limitType: Type.Union([Type.Literal('shared'), Type.Literal('dedicated')]),
  nonCsiDevices: Type.Array(Type.String(), { description: 'Root and other devices created with the instance' }),
  extraNetworkInterfaces: Type.Integer({ description: 'ENIs beyond the first (shared limit only)' }),
  instanceStoreDevices: Type.Integer({ description: 'NVMe instance-store disks (shared limit only)' }),
  computedLimit: Type.Integer(),
  assumed: Type.Boolean({ description: 'EC2 reported no limit for the type; a default was assumed' }),
});

const NodeSchema = Type.Object({
  instanceId: Type.String(),
  kubernetesName: Nullable(Type.String()),
  instanceType: Nullable(Type.String()),
  zone: Nullable(Type.String()),
  sources: Type.Object({ redis: Type.Boolean(), kubernetes: Type.Boolean(), ec2: Type.Boolean() }),
  registration: Nullable(
    Type.Object({
      attachLimit: Type.Integer(),
      driverName: Type.String(),
      startedAt: Type.String({ format: 'date-time' }),
      heartbeatAt: Type.String({ format: 'date-time' }),
    }),
  ),
  attachLimit: Nullable(Type.Integer({ description: "Volumes the node takes: the agent's registered limit (else CSINode's, else computed)" })),
  attachLimitSource: Nullable(Type.Union([Type.Literal('redis'), Type.Literal('kubernetes'), Type.Literal('ec2')])),
  attachedCount: Type.Integer(),
  reservedSlots: Type.Integer({ description: 'Device slots the controller holds in Redis' }),
  remainingSlots: Nullable(Type.Integer()),
  limit: Nullable(Breakdown),
  attachments: Type.Array(Type.Object({ volumeId: Type.String(), device: Nullable(Type.String()), state: Type.String(), csi: Type.Boolean() })),
  kubernetes: Nullable(
    Type.Object({
      name: Type.String(),
      allocatable: Nullable(Type.Integer()),
      attachments: Type.Array(Type.Object({ volumeId: Nullable(Type.String()), persistentVolume: Nullable(Type.String()), attached: Type.Boolean() })),
    }),
  ),
  disagreements: Type.Array(
    Type.Object({ field: Type.String(), message: Type.String(), values: Type.Record(Type.String(), Nullable(Type.Union([Type.String(), Type.Number()]))) }),
  ),
});

async function kubeNodes(deps: Deps): Promise<KubeNode[] | undefined> {
  return deps.kube ? deps.kube.nodes() : undefined;
}

/** Views of the given nodes (or all known ones). */
async function loadNodes(deps: Deps, only?: string): Promise<NodeView[]> {
  const [regs, kube, volumes] = await Promise.all([listNodes(deps.redis), kubeNodes(deps), deps.cloud.volumes()]);
  const ids = new Set<string>();
  for (const r of regs) ids.add(r.instanceId);
  for (const k of kube ?? []) if (k.instanceId) ids.add(k.instanceId);
  const wanted = only ? [...ids].filter((id) => id === only) : [...ids].sort();
  const pipe = deps.redis.pipeline();
  for (const id of wanted) pipe.hlen(`plinth:devices:${id}`);
  const counts = wanted.length > 0 ? ((await pipe.exec()) ?? []) : [];
  return Promise.all(
    wanted.map(async (instanceId, i) => {
      const registration = regs.find((r) => r.instanceId === instanceId);
      const instance = await deps.cloud.instance(instanceId);
      const typeName = instance?.type ?? registration?.instanceType;
      const instanceType = typeName ? await deps.cloud.instanceType(typeName) : undefined;
      const reserved = counts[i]?.[1];
      return nodeView({
        instanceId,
        registration,
        kube: kube?.find((k) => k.instanceId === instanceId),
        kubeEnabled: kube !== undefined,
        instance,
        instanceType,
        volumes,
        reservedSlots: typeof reserved === 'number' ? reserved : 0,
      });
    }),
  );
}

export function nodesRoutes(app: App, deps: Deps): void {
  app.get(
    '/v1/nodes',
    {
      schema: {
        tags: ['nodes'],
        summary: 'Nodes with attach limits, attached counts, remaining slots and what reduces the limit',
        description:
          "Nodes come from the node agents' Redis registrations and, when enabled, Kubernetes; disagreements between the sources are listed per node.",
        querystring: Type.Object({ zone: Type.Optional(Type.String({ pattern: ZONE })) }, { additionalProperties: false }),
        security: bearerSecurity,
        response: responses(Type.Object({ kubernetes: Type.Boolean({ description: 'Whether Kubernetes is a source' }), items: Type.Array(NodeSchema) })),
      },
    },
    async (req) => {
      const nodes = await loadNodes(deps);
      return { kubernetes: Boolean(deps.kube), items: req.query.zone ? nodes.filter((n) => n.zone === req.query.zone) : nodes };
    },
  );

  app.get(
    '/v1/nodes/:id',
    { schema: { tags: ['nodes'], summary: 'One node by EC2 instance id', params: InstanceIdParam, security: bearerSecurity, response: responses(NodeSchema) } },
    async (req) => {
      const [node] = await loadNodes(deps, req.params.id);
      if (!node) throw notFound(`node ${req.params.id} is neither registered in Redis nor known to Kubernetes`);
      return node;
    },
  );
}
