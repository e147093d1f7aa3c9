import type { CallContext, CreateVolumeRequest, CreateVolumeResponse } from '@plinth/csi';
import { checkCapabilities } from '../access.js';
import { GiB, newVolumeSizeGiB } from '../capacity.js';
import { contentSourceFor } from '../content-source.js';
import type { Deps } from '../deps.js';
import { createVolumeOperation } from '../ops/create-volume.js';
import { resolveIops } from '../params/iops.js';
import { parseMutableParams, withMutableParams } from '../params/mutable-params.js';
import { parseVolumeParams } from '../params/volume-params.js';
import { placement, topologyFor } from '../topology.js';
import { requireName } from './ids.js';

/**
 * CreateVolume: every argument is validated here, before the queue, in the
 * order a reader follows: name, parameters, capabilities, content source,
 * size, zone. The EC2 work runs as the `create` job.
 */
export async function createVolume(deps: Deps, req: CreateVolumeRequest, ctx: CallContext): Promise<CreateVolumeResponse> {
  const name = requireName(req.name);
  // A VolumeAttributesClass given at creation (mutable_parameters) overrides the StorageClass.
  const params = withMutableParams(parseVolumeParams(req.parameters), parseMutableParams(req.mutableParameters));
  const { multiAttach } = checkCapabilities(req.volumeCapabilities, params.type);
  // A snapshot or volume source must exist (NOT_FOUND) and fit the capacity range (OUT_OF_RANGE); a clone is made in its source's zone.
  const content = await contentSourceFor(deps, req.volumeContentSource, name);
  const sizeGiB = newVolumeSizeGiB(req.capacityRange, params.type, deps.config.DEFAULT_VOLUME_SIZE_GIB, content?.facts);
  const { zone, allowedZones } = placement(req.accessibilityRequirements, deps.defaultZone, content?.facts);

  const created = await deps.ops.run(
    createVolumeOperation,
    {
      name,
      sizeGiB,
      requiredBytes: req.capacityRange?.requiredBytes ?? 0,
      limitBytes: req.capacityRange?.limitBytes ?? 0,
      zone,
      allowedZones,
      // EC2 encrypts whatever is made from an encrypted source.
      params: content?.facts.encrypted ? { ...params, encrypted: true } : params,
      iops: resolveIops(params, sizeGiB),
      multiAttach,
      source: content?.source,
    },
    ctx.deadline,
  );

  return {
    volume: {
      volumeId: created.volumeId,
      capacityBytes: created.sizeGiB * GiB,
      // The node agent formats with these: the filesystem type and the format options, as the class spelled them.
      volumeContext: { ...params.format, ...(params.fsType ? { fsType: params.fsType } : {}) },
      contentSource: content ? req.volumeContentSource : undefined,
      accessibleTopology: [topologyFor(created.zone)],
    },
  };
}
