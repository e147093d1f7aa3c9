import { VOLUME_TYPES } from '@plinth/cloud';
import { notFound } from '@plinth/errors';
import type { JobRecord } from '@plinth/queue';
import { Type } from 'typebox';
import type { Deps } from '../deps.js';
import { INSTANCE_ID, VOLUME_ID, VolumeIdParam, ZONE } from '../ids.js';
import { jobView } from '../job-view.js';
import { bearerSecurity, Nullable, responses, Tags, type App, StringEnum } from '../schemas.js';
import { page, summary } from '../volume-view.js';
import { JobSchema } from './jobs.js';

const VolumeSchema = Type.Object({
  id: Type.String(),
  name: Nullable(Type.String({ description: 'CSI volume name (tag CSIVolumeName)' })),
  zone: Type.String(),
  type: Type.String(),
  sizeGiB: Type.Integer(),
  iops: Nullable(Type.Integer()),
  throughput: Nullable(Type.Integer()),
  state: Type.String(),
  encrypted: Type.Boolean(),
  createdAt: Nullable(Type.String({ format: 'date-time' })),
  pvc: Nullable(Type.Object({ namespace: Type.String(), name: Type.String() })),
  pvName: Nullable(Type.String()),
  attachments: Type.Array(
    Type.Object({
      instanceId: Type.String(),
      device: Nullable(Type.String()),
      state: Type.String(),
      attachedAt: Nullable(Type.String({ format: 'date-time' })),
    }),
  ),
  health: Type.Object(
    {
      healthy: Type.Boolean(),
      statusCheck: Nullable(Type.String({ description: "EC2's status check: ok, warning, impaired, insufficient-data; null where EC2 has none for it" })),
      problems: Type.Array(
        Type.Object({
          status: StringEnum(['degraded', 'inaccessible', 'data_loss'], { description: "CSI 1.13's VolumeHealthErrorType" }),
          reason: Type.String({ description: 'CamelCase, e.g. IoDisabled, IoStalled, IoPerformanceDegraded, VolumeError, AttachmentStuck' }),
          message: Type.String(),
        }),
      ),
    },
    {
      description:
        "The volume's health as EC2 tells it (state, status checks, attachments): what ControllerGetVolumeHealth reports. The node's view (I/O heartbeat, mounts, filesystem errors) is NodeGetVolumeHealth's.",
    },
  ),
});

const Modification = Type.Object({
  state: Nullable(Type.String()),
  progress: Nullable(Type.Integer()),
  message: Nullable(Type.String()),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  endedAt: Nullable(Type.String({ format: 'date-time' })),
  originalSizeGiB: Nullable(Type.Integer()),
  targetSizeGiB: Nullable(Type.Integer()),
  originalType: Nullable(Type.String()),
  targetType: Nullable(Type.String()),
  originalIops: Nullable(Type.Integer()),
  targetIops: Nullable(Type.Integer()),
});

const VolumeDetail = Type.Intersect([
  VolumeSchema,
  Type.Object({
    tags: Tags,
    modifications: Nullable(Type.Array(Modification), { description: 'null when EC2 does not answer DescribeVolumesModifications (some emulators)' }),
    recentJobs: Type.Array(JobSchema),
  }),
]);

const k8sName = '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$';

const ListQuery = Type.Object(
  {
    zone: Type.Optional(Type.String({ pattern: ZONE })),
    node: Type.Optional(Type.String({ pattern: INSTANCE_ID, description: 'Attached to this instance' })),
    state: Type.Optional(StringEnum(['creating', 'available', 'in-use', 'deleting', 'error'])),
    type: Type.Optional(StringEnum(VOLUME_TYPES)),
    pvcNamespace: Type.Optional(Type.String({ pattern: k8sName })),
    pvcName: Type.Optional(Type.String({ pattern: k8sName })),
    health: Type.Optional(StringEnum(['healthy', 'unhealthy'], { description: 'Only volumes with (unhealthy) or without (healthy) problems' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Type.String({ pattern: VOLUME_ID, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);

const iso = (d: Date | undefined): string | null => (d ? new Date(d).toISOString() : null);

export function volumesRoutes(app: App, deps: Deps): void {
  app.get(
    '/v1/volumes',
    {
      schema: {
        tags: ['volumes'],
        summary: "This cluster's volumes, filtered and paginated",
        querystring: ListQuery,
        security: bearerSecurity,
        response: responses(
          Type.Object({
            items: Type.Array(VolumeSchema),
            total: Type.Integer({ description: 'Volumes matching the filters' }),
            nextCursor: Nullable(Type.String()),
          }),
        ),
      },
    },
    async (req) => {
      const { limit = 100, cursor, ...filter } = req.query;
      const [volumes, statuses] = await Promise.all([deps.cloud.volumes(), deps.cloud.statuses()]);
      const now = Date.now();
      const all = volumes.map((v) => summary(v, statuses ? statuses.get(v.id) : 'unavailable', now));
      return page(all, filter, limit, cursor);
    },
  );

  app.get(
    '/v1/volumes/:id',
    {
      schema: {
        tags: ['volumes'],
        summary: 'One volume with attachments, health, tags, modifications and recent jobs',
        params: VolumeIdParam,
        security: bearerSecurity,
        response: responses(VolumeDetail),
      },
    },
    async (req) => {
      const id = req.params.id;
      const v = await deps.cloud.volume(id);
      if (!v) throw notFound(`volume ${id} is not a volume of cluster ${deps.config.PLINTH_CLUSTER_ID}`);
      const statuses = await deps.cloud.statuses();
      const s = summary(v, statuses ? statuses.get(id) : 'unavailable');
      const ofVolume = (job: JobRecord): boolean => {
        const d = (job.data ?? {}) as { volumeId?: string; name?: string };
        return job.key.includes(id) || d.volumeId === id || (s.name !== null && (job.key === s.name || d.name === s.name));
      };
      const [mods, jobs] = await Promise.all([deps.cloud.modifications(id), deps.jobs.list({ where: ofVolume, limit: 20, scanLimit: 500 })]);
      const recentJobs = jobs.items.map(jobView);
      return {
        ...s,
        tags: v.tags,
        modifications:
          mods?.map((m) => ({
            state: m.state,
            progress: m.progress ?? null,
            message: m.message ?? null,
            startedAt: iso(m.startedAt),
            endedAt: iso(m.endedAt),
            originalSizeGiB: m.originalSizeGiB ?? null,
            targetSizeGiB: m.targetSizeGiB ?? null,
            originalType: m.originalType ?? null,
            targetType: m.targetType ?? null,
            originalIops: m.originalIops ?? null,
            targetIops: m.targetIops ?? null,
          })) ?? null,
        recentJobs,
      };
    },
  );
}
