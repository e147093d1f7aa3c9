import { CreateSnapshotsCommand, type SnapshotInfo, type Tag } from '@aws-sdk/client-ec2';
import type { Ec2 } from './ec2.js';

export interface InstanceSnapshotsInput {
  instanceId: string;
  /** Volumes attached to the instance that must not be snapshotted. */
  excludeDataVolumeIds: string[];
  excludeBootVolume: boolean;
  tags: Tag[];
  description: string;
}

/**
 * EC2 CreateSnapshots: crash-consistent snapshots of several volumes attached
 * to one instance, taken at the same point in time, tagged in the same call.
 */
export async function createInstanceSnapshots(ec2: Ec2, input: InstanceSnapshotsInput, signal?: AbortSignal): Promise<SnapshotInfo[]> {
  const res = await ec2.send(
    'CreateSnapshots',
    `snapshots of instance ${input.instanceId}`,
    (s) =>
      ec2.client.send(
        new CreateSnapshotsCommand({
          InstanceSpecification: {
            InstanceId: input.instanceId,
            ExcludeBootVolume: input.excludeBootVolume,
            ...(input.excludeDataVolumeIds.length > 0 ? { ExcludeDataVolumeIds: input.excludeDataVolumeIds } : {}),
          },
          Description: input.description,
          TagSpecifications: [{ ResourceType: 'snapshot', Tags: input.tags }],
        }),
        { abortSignal: s },
      ),
    signal,
  );
  return res.Snapshots ?? [];
}
