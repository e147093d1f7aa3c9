import type { ServiceError } from '@grpc/grpc-js';
import { VolumeCapability_AccessMode_Mode as Mode, type CreateVolumeRequest, type VolumeCapability } from '@plinth/csi';

export const GiB = 1024 ** 3;

export const mountCap: VolumeCapability = { accessMode: { mode: Mode.SINGLE_NODE_WRITER }, mount: { fsType: 'ext4', mountFlags: [], volumeMountGroup: '' } };

/** The gRPC code and message a call failed with; throws if it succeeded. */
export async function codeOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, details: err.details };
  }
  throw new Error('expected the call to fail');
}

/** A CreateVolume request for a 1 GiB mount volume, with `over` on top. */
export function createReq(name: string, over: Partial<CreateVolumeRequest> = {}): CreateVolumeRequest {
  return {
    name,
    capacityRange: { requiredBytes: GiB, limitBytes: 0 },
    volumeCapabilities: [mountCap],
    parameters: {},
    secrets: {},
    volumeContentSource: undefined,
    accessibilityRequirements: undefined,
    mutableParameters: {},
    ...over,
  };
}
