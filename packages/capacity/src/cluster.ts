import type { Cloud, VolumeInfo } from '@plinth/cloud';
import { computeCapacity, type CapacityEntry, type CapacityOptions } from './compute.js';

/** This cluster's volumes (tagged plinth.dev/cluster-id=<clusterId>). */
export function listCapacityVolumes(cloud: Cloud, clusterId: string, signal?: AbortSignal): Promise<VolumeInfo[]> {
  return cloud.volumes.list(clusterId, signal);
}

/** Capacity of the cluster per zone and type, read from EC2. */
export async function clusterCapacity(cloud: Cloud, clusterId: string, opts: CapacityOptions, signal?: AbortSignal): Promise<CapacityEntry[]> {
  return computeCapacity(await listCapacityVolumes(cloud, clusterId, signal), opts);
}
