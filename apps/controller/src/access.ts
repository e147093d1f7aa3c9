import { invalidArgument } from '@plinth/errors';
import { VolumeCapability_AccessMode_Mode as Mode, type VolumeCapability } from '@plinth/csi';
import type { VolumeType } from './params/volume-types.js';

const SINGLE_NODE = new Set<Mode>([Mode.SINGLE_NODE_WRITER, Mode.SINGLE_NODE_READER_ONLY, Mode.SINGLE_NODE_SINGLE_WRITER, Mode.SINGLE_NODE_MULTI_WRITER]);

/** Why a capability cannot be served for a volume of `type`, or undefined if it can. */
export function capabilityProblem(cap: VolumeCapability, type: VolumeType | undefined): string | undefined {
  const mode = cap.accessMode?.mode;
  if (mode === undefined || mode === Mode.UNKNOWN) return 'access_mode is required';
  if (!cap.block && !cap.mount) return 'access_type (block or mount) is required';
  if (cap.mount?.fsType && !['ext4', 'ext3', 'xfs', ''].includes(cap.mount.fsType)) return `fs_type "${cap.mount.fsType}" is not supported (ext4, ext3, xfs)`;
  if (SINGLE_NODE.has(mode)) return undefined;
  if (mode === Mode.MULTI_NODE_MULTI_WRITER) {
    if (!cap.block) return 'MULTI_NODE_MULTI_WRITER needs a block volume (EBS Multi-Attach has no shared filesystem)';
    if (type !== undefined && type !== 'io2') return `MULTI_NODE_MULTI_WRITER needs an io2 volume, not ${type}`;
    return undefined;
  }
  return `access mode ${Mode[mode] ?? mode} is not supported by EBS`;
}

/** Validates a CreateVolume capability list; returns whether it asks for Multi-Attach. */
export function checkCapabilities(caps: VolumeCapability[], type: VolumeType): { multiAttach: boolean } {
  if (caps.length === 0) throw invalidArgument('volume_capabilities is required');
  let multiAttach = false;
  for (const cap of caps) {
    const problem = capabilityProblem(cap, type);
    if (problem) throw invalidArgument(`volume_capabilities: ${problem}`);
    if (cap.accessMode?.mode === Mode.MULTI_NODE_MULTI_WRITER) multiAttach = true;
  }
  return { multiAttach };
}
