import { isNodeLocalHandle } from '@plinth/cloud';
import { invalidArgument, notFound } from '@plinth/errors';
import type { ValidateVolumeCapabilitiesRequest, ValidateVolumeCapabilitiesResponse } from '@plinth/csi';
import { capabilityProblem } from '../access.js';
import type { Deps } from '../deps.js';
import { isVolumeType } from '../params/volume-types.js';
import { requireVolumeId } from './ids.js';
import { validateNodeLocal } from './validate-node-local.js';

export async function validateVolumeCapabilities(deps: Deps, req: ValidateVolumeCapabilitiesRequest): Promise<ValidateVolumeCapabilitiesResponse> {
  if (isNodeLocalHandle(req.volumeId)) return validateNodeLocal(deps.config.ENABLE_NODE_LOCAL_VOLUMES, req);
  const volumeId = requireVolumeId(req.volumeId);
  if (req.volumeCapabilities.length === 0) throw invalidArgument('volume_capabilities is required');
  const vol = await deps.cloud.volumes.get(volumeId);
  if (!vol) throw notFound(`volume ${volumeId} not found`);
  const type = isVolumeType(vol.type) ? vol.type : undefined;
  return confirmEach(req, (cap) => capabilityProblem(cap, type));
}

/** Confirms the request's capabilities if `problemOf` finds nothing wrong with any; else names the first problem. */
export function confirmEach(
  req: ValidateVolumeCapabilitiesRequest,
  problemOf: (cap: ValidateVolumeCapabilitiesRequest['volumeCapabilities'][number]) => string | undefined,
): ValidateVolumeCapabilitiesResponse {
  for (const cap of req.volumeCapabilities) {
    const problem = problemOf(cap);
    if (problem) return { confirmed: undefined, message: problem };
  }
  return {
    confirmed: {
      volumeContext: req.volumeContext,
      volumeCapabilities: req.volumeCapabilities,
      parameters: req.parameters,
      mutableParameters: req.mutableParameters,
    },
    message: '',
  };
}
