import { TAG_COPY_TO_REGION, TAG_CSI_NAME, type SnapshotInfo } from '@plinth/cloud';
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
  copies: Type.Array(
    Type.Object({
      region: Type.String(),
      snapshotId: Nullable(Type.String({ description: 'The copy in that region; null until CopySnapshot has made it' })),
      state: Type.String({
        description:
          "EC2's state of the copy there (pending, completed, error), or not-started (waiting for the snapshot to complete, or refused: see /v1/jobs), or unknown (that region did not answer)",
      }),
      progress: Nullable(Type.String()),
    }),
    { description: 'Cross-region copies the VolumeSnapshotClass asked for (copySnapshotToRegion); ready_to_use in CSI stays about this snapshot' },
  ),
});

type Copy = { region: string; snapshotId: string | null; state: string; progress: string | null };

/** Each snapshot's copies, with one look-up per destination region (an unreachable region shows its copies as unknown). */
async function copiesOf(deps: Deps, snaps: SnapshotInfo[]): Promise<Map<string, Copy[]>> {
  const byRegion = new Map<string, string[]>();
  for (const s of snaps) {
    const region = s.tags[TAG_COPY_TO_REGION];
    if (region) byRegion.set(region, [...(byRegion.get(region) ?? []), s.id]);
  }
  const out = new Map<string, Copy[]>();
  await Promise.all(
    [...byRegion].map(async ([region, ids]) => {
      const found = await deps.cloud.copies(region, ids).catch(() => undefined);
      for (const id of ids) {
        const copies = found?.get(id) ?? [];
        const views: Copy[] = !found
          ? [{ region, snapshotId: null, state: 'unknown', progress: null }]
          : copies.length === 0
            ? [{ region, snapshotId: null, state: 'not-started', progress: null }]
            : copies.map((c) => ({ region, snapshotId: c.id, state: c.state, progress: c.progress ?? null }));
        out.set(id, views);
      }
    }),
  );
  return out;
}

function view(s: SnapshotInfo, copies: Copy[] = []) {
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
    copies,
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
      const picked = (await deps.cloud.snapshots()).filter(
        (s) => (!req.query.volume || s.volumeId === req.query.volume) && (!req.query.state || s.state === req.query.state),
      );
      const copies = await copiesOf(deps, picked);
      const items = picked.map((s) => view(s, copies.get(s.id))).sort((a, b) => a.id.localeCompare(b.id));
      return { items };
    },
  );

  app.get(
    '/v1/snapshots/:id',
    { schema: { tags: ['snapshots'], summary: 'One snapshot', params: SnapshotIdParam, security: bearerSecurity, response: responses(SnapshotSchema) } },
    async (req) => {
      const s = (await deps.cloud.snapshots()).find((x) => x.id === req.params.id);
      if (!s) throw notFound(`snapshot ${req.params.id} is not a snapshot of cluster ${deps.config.PLINTH_CLUSTER_ID}`);
      return view(s, (await copiesOf(deps, [s])).get(s.id));
    },
  );
}
