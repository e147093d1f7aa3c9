import {
  StorageHealthErrorType as StorageHealth,
  type NodeGetStorageHealthResponse,
  type NodeGetStorageHealthResponse_StorageBackendHealth as BackendHealth,
} from '@plinth/csi';
import { isEbsModel } from '../device/identity.js';
import type { NodeContext } from './context.js';

/**
 * NodeGetStorageHealth (CSI 1.13, GET_STORAGE_HEALTH): EBS as seen from this
 * node. Every attached EBS NVMe device gets the I/O heartbeat (in parallel,
 * each bounded by HEALTH_IO_TIMEOUT_MS): when none answers, EBS is
 * STORAGE_UNREACHABLE from here; when some do not, STORAGE_DEGRADED naming
 * them. No EBS device attached, or all answering: no entries.
 */
export async function nodeGetStorageHealth(ctx: NodeContext): Promise<NodeGetStorageHealthResponse> {
  const ebs = (await ctx.os.blockDevices()).filter((e) => isEbsModel(e.model ?? ''));
  const probed = await Promise.all(
    ebs.map(async (e) => {
      const node = await ctx.os.deviceNode(e.name);
      const io = node ? await ctx.os.readProbe(node.path, ctx.ioTimeoutMs) : ({ kind: 'error', message: `no device node /dev/${e.name}` } as const);
      return { name: e.name, serial: e.serial ?? '', io };
    }),
  );
  const failed = probed.filter((p) => p.io.kind !== 'ok');
  if (failed.length === 0) return { backendHealth: [] };
  const what = failed.map((p) => `${p.name} (${p.serial}): ${p.io.kind === 'error' ? p.io.message : `no answer for ${p.io.ms} ms`}`).join('; ');
  const entry: BackendHealth =
    failed.length === probed.length
      ? {
          status: StorageHealth.STORAGE_UNREACHABLE,
          reason: 'EbsUnreachable',
          message: `no EBS volume on this node answers a read: ${what}`,
          volumeCapability: undefined,
        }
      : {
          status: StorageHealth.STORAGE_DEGRADED,
          reason: 'EbsDevicesUnresponsive',
          message: `${failed.length} of ${probed.length} EBS volumes on this node do not answer a read: ${what}`,
          volumeCapability: undefined,
        };
  return { backendHealth: [entry] };
}
