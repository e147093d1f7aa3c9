import { invalidArgument } from '@plinth/errors';
import type { CallContext, CreateVolumeRequest, CreateVolumeResponse } from '@plinth/csi';
import { checkCapabilities } from '../access.js';
import { GiB, sizeInGiB } from '../capacity.js';
import type { Deps } from '../deps.js';
import { createVolumeOperation, type CreateVolumeJob } from '../ops/create-volume.js';
import { FORMAT_KEYS, parseVolumeParams, resolveIops } from '../params/volume-params.js';
import { limitsOf } from '../params/volume-types.js';
import { parseMutableParams, withMutableParams } from '../params/mutable-params.js';
import { cloneZone } from '../topology.js';
import { contentSourceOf, sourceFacts, toCsiContentSource } from '../content-source.js';
import { sizeForSource } from '../capacity.js';
import { pickZone, requisiteZones, topologyFor } from '../topology.js';

const MAX_NAME = 128;
// CSI forbids these control characters in names.
// eslint-disable-next-line no-control-regex
const BANNED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** CreateVolume: every argument is validated here, before the queue; the EC2 work runs as a job. */
export async function createVolume(deps: Deps, req: CreateVolumeRequest, ctx: CallContext): Promise<CreateVolumeResponse> {
  if (!req.name) throw invalidArgument('name is required');
  if (req.name.length > MAX_NAME || BANNED.test(req.name)) throw invalidArgument(`name must be at most ${MAX_NAME} characters without control characters`);
  const source = contentSourceOf(req.volumeContentSource);
  // A VolumeAttributesClass given at creation (mutable_parameters) overrides the StorageClass.
  const params = withMutableParams(parseVolumeParams(req.parameters), parseMutableParams(req.mutableParameters));
  const { multiAttach } = checkCapabilities(req.volumeCapabilities, params.type);
  const lim = limitsOf(params.type);
  // A snapshot or volume source must exist (NOT_FOUND) and fit the capacity range (OUT_OF_RANGE); a clone is made in its source's zone.
  const facts = source ? await sourceFacts(deps, source, req.name) : undefined;
  const sizeGiB = sizeForSource(req.capacityRange, sizeInGiB(req.capacityRange, lim.minGiB, lim.maxGiB, deps.config.DEFAULT_VOLUME_SIZE_GIB), facts, lim);
  const iops = resolveIops(params, sizeGiB);
  const zone = facts?.zone ? cloneZone(facts.zone, requisiteZones(req.accessibilityRequirements), facts.what) : pickZone(req.accessibilityRequirements, deps.defaultZone);

  const job: CreateVolumeJob = {
    name: req.name,
    sizeGiB,
    requiredBytes: req.capacityRange?.requiredBytes ?? 0,
    limitBytes: req.capacityRange?.limitBytes ?? 0,
    zone,
    allowedZones: requisiteZones(req.accessibilityRequirements),
    // EC2 encrypts whatever is made from an encrypted source.
    params: facts?.encrypted ? { ...params, encrypted: true } : params,
    iops,
    multiAttach,
    source,
  };
  const created = await deps.ops.run(createVolumeOperation, job, ctx.deadline);

  const volumeContext: Record<string, string> = {};
  if (params.fsType) volumeContext.fsType = params.fsType;
  for (const k of FORMAT_KEYS) if (params.format[k] !== undefined) volumeContext[k] = params.format[k];
  return {
    volume: {
      volumeId: created.volumeId,
      capacityBytes: created.sizeGiB * GiB,
      volumeContext,
      contentSource: toCsiContentSource(source),
      accessibleTopology: [topologyFor(created.zone)],
    },
  };
}
