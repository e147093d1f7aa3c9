import { TAG_CSI_NAME, type SnapshotInfo } from '@plinth/cloud';
import { notFound } from '@plinth/errors';
import { Type } from 'typebox';
import type { Deps } from '../deps.js';
import { SnapshotIdParam, VOLUME_ID } from '../ids.js';
import { bearerSecurity, Nullable, responses, Tags, type App, StringEnum } from '../schemas.js';

const SnapshotSchema = Type.Object({
  id: Type.String(),
  name: Nullable(Type.String({ description: 'CSI snapshot name (tag CSIVolumeName)' })),
  volumeId: Nullable(Type.String()),
  state: Type.String(),
  progress: Nullable(Type.String()),
  sizeGiB: Nullable(Type.Integer()),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  description: Nullable(Type.String()),
  encrypted: Type.Boolean(),
  tags: Tags,
});

function view(s: SnapshotInfo) {
  return {
    id: s.id,
    name: s.tags[TAG_CSI_NAME] ?? null,
    volumeId: s.volumeId ?? null,
    state: s.state,
    progress: s.progress ?? null,
    sizeGiB: s.sizeGiB ?? null,
    startedAt: s.startedAt ? new Date(s.startedAt).toISOString() : null,
    description: s.description ?? null,
    encrypted: s.encrypted,
    tags: s.tags,
  };
}

export function snapshotsRoutes(app: App, deps: Deps): void {
  app.get(
    '/v1/snapshots',
    {
      schema: {
        tags: ['snapshots'],
        summary: "This cluster's snapshots (tagged with its cluster id)",
        querystring: Type.Object(
          {
            volume: Type.Optional(Type.String({ pattern: VOLUME_ID, description: 'Only snapshots of this volume' })),
            state: Type.Optional(StringEnum(['pending', 'completed', 'error', 'recoverable', 'recovering'])),
          },
          { additionalProperties: false },
        ),
        security: bearerSecurity,
        response: responses(Type.Object({ items: Type.Array(SnapshotSchema) })),
      },
    },
    async (req) => {
      const all = (await deps.cloud.snapshots()).map(view);
      const items = all
        .filter((s) => (!req.query.volume || s.volumeId === req.query.volume) && (!req.query.state || s.state === req.query.state))
        .sort((a, b) => a.id.localeCompare(b.id));
      return { items };
    },
  );

  app.get(
    '/v1/snapshots/:id',
    { schema: { tags: ['snapshots'], summary: 'One snapshot', params: SnapshotIdParam, security: bearerSecurity, response: responses(SnapshotSchema) } },
    async (req) => {
      const s = (await deps.cloud.snapshots()).find((x) => x.id === req.params.id);
      if (!s) throw notFound(`snapshot ${req.params.id} is not a snapshot of cluster ${deps.config.PLINTH_CLUSTER_ID}`);
      return view(s);
    },
  );
}
