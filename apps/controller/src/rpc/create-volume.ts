import type { CallContext, CreateVolumeRequest, CreateVolumeResponse } from '@plinth/csi';
import { checkCapabilities } from '../access.js';
import { GiB, newVolumeSizeGiB } from '../capacity.js';
import { contentSourceFor } from '../content-source.js';
import type { Deps } from '../deps.js';
import { createVolumeOperation } from '../ops/create-volume.js';
import { IOPS_NOTE, resolveIops } from '../params/iops.js';
import { parseMutableParams, withMutableParams } from '../params/mutable-params.js';
import { BLOCK_ATTACH_UNTIL_INITIALIZED, metadataOf, parseVolumeParams } from '../params/volume-params.js';
import { placement, topologyFor, withZoneNames } from '../topology.js';
import { requireName } from './ids.js';

/**
 * CreateVolume: every argument is validated here, before the queue, in the
 * order a reader follows: name, parameters, capabilities, content source,
 * size, zone. The EC2 work runs as the `create` job.
 */
export async function createVolume(deps: Deps, req: CreateVolumeRequest, ctx: CallContext): Promise<CreateVolumeResponse> {
  const name = requireName(req.name);
  const warn = (message: string) => deps.log.warn({ name }, message);
  // A VolumeAttributesClass given at creation (mutable_parameters) overrides the StorageClass; its tag templates see the StorageClass's PVC/PV names.
  const sc = parseVolumeParams(req.parameters, warn);
  const params = withMutableParams(sc, parseMutableParams({ ...metadataOf(req.parameters), ...req.mutableParameters }, warn));
  const { multiAttach } = checkCapabilities(req.volumeCapabilities, params.type);
  // A snapshot or volume source must exist (NOT_FOUND) and fit the capacity range (OUT_OF_RANGE); a clone is made in its source's zone.
  const content = await contentSourceFor(deps, req.volumeContentSource, name);
  const sizeGiB = newVolumeSizeGiB(req.capacityRange, params.type, deps.config.DEFAULT_VOLUME_SIZE_GIB, content?.facts);
  const topology = await withZoneNames(deps, req.accessibilityRequirements);
  const { zone, allowedZones } = placement(topology, deps.defaultZone, content?.facts);
  const iops = resolveIops(params, sizeGiB);
  if (iops.note) warn(`${iops.note} (aws-ebs-csi-driver caps likewise)`);

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
      iops: iops.iops,
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
      volumeContext: {
        ...params.format,
        ...(params.fsType ? { fsType: params.fsType } : {}),
        ...(params.blockAttachUntilInitialized ? { [BLOCK_ATTACH_UNTIL_INITIALIZED]: 'true' } : {}),
        // Shown in the PV's spec.csi.volumeAttributes: the class asked for IOPS the volume could not have.
        ...(iops.note ? { [IOPS_NOTE]: iops.note } : {}),
      },
      contentSource: content ? req.volumeContentSource : undefined,
      accessibleTopology: [topologyFor(created.zone)],
    },
  };
}
