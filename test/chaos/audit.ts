import { DescribeVolumesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { Redis } from 'ioredis';

export interface Audit {
  /** Volumes of this cluster still in the cloud after every lifecycle deleted its own. */
  leaked: string[];
  /** CSI names that got more than one volume from EC2. */
  duplicates: string[];
  /** Volumes of this cluster still attached somewhere. */
  orphanAttachments: string[];
  /** Device-name allocations left in Redis for the node. */
  leakedDeviceNames: number;
}

/** What the cloud and Redis hold for `cluster` once a run is over. `createdNames`: the name of every successful CreateVolume EC2 saw. */
export async function audit(ec2: EC2Client, cluster: string, redisUrl: string, nodeId: string, createdNames: string[]): Promise<Audit> {
  const res = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:plinth.dev/cluster-id', Values: [cluster] }] }));
  const vols = (res.Volumes ?? []).filter((v) => v.State !== 'deleted' && v.State !== 'deleting');
  const seen = new Map<string, number>();
  for (const n of createdNames) seen.set(n, (seen.get(n) ?? 0) + 1);
  const r = new Redis(redisUrl);
  const held = await r.hlen(`plinth:devices:${nodeId}`);
  r.disconnect();
  return {
    leaked: vols.map((v) => `${v.VolumeId} (${v.Tags?.find((t) => t.Key === 'CSIVolumeName')?.Value ?? '?'})`),
    duplicates: [...seen].filter(([, k]) => k > 1).map(([n]) => n),
    orphanAttachments: vols.filter((v) => (v.Attachments ?? []).length > 0).map((v) => v.VolumeId ?? '?'),
    leakedDeviceNames: held,
  };
}

export const clean = (a: Audit): boolean => a.leaked.length === 0 && a.duplicates.length === 0 && a.orphanAttachments.length === 0 && a.leakedDeviceNames === 0;
