import type { Ec2, Volume } from '@plinth/cloud';
import { computeCapacity, type CapacityEntry, type CapacityOptions } from './compute.js';

/** This cluster's volumes (tagged plinth.dev/cluster-id=<clusterId>), through the adapter's rate limiter and retries. */
export function listCapacityVolumes(ec2: Ec2, clusterId: string, signal?: AbortSignal): Promise<Volume[]> {
  return ec2.listClusterVolumes(clusterId, signal);
}

/** Capacity of the cluster per zone and type, read from EC2. */
export async function clusterCapacity(ec2: Ec2, clusterId: string, opts: CapacityOptions, signal?: AbortSignal): Promise<CapacityEntry[]> {
  return computeCapacity(await listCapacityVolumes(ec2, clusterId, signal), opts);
}
