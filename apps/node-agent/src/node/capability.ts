import { invalidArgument } from '@plinth/errors';
import { VolumeCapability_AccessMode_Mode as Mode, type VolumeCapability } from '@plinth/csi';
import { isSupportedFs, SUPPORTED_FS, type FsType } from '../mount/mkfs.js';

export type Access = { kind: 'block'; mode: Mode } | { kind: 'mount'; mode: Mode; fsType: FsType; mountFlags: string[] };

const DEFAULT_FS: FsType = 'ext4';

/** EBS volumes attach to one node; multi-attach (io2) is only offered for raw block. */
const SINGLE_NODE = new Set([Mode.SINGLE_NODE_WRITER, Mode.SINGLE_NODE_READER_ONLY, Mode.SINGLE_NODE_SINGLE_WRITER, Mode.SINGLE_NODE_MULTI_WRITER]);

/** Mount flags that would change what we mount or how; the driver owns these. */
const FORBIDDEN_FLAGS = new Set(['bind', 'rbind', 'remount', 'move', 'loop']);

/**
 * `nodeLocal`: a node-local volume (local-ebs://…) may also be a MULTI_NODE_MULTI_WRITER filesystem, as in
 * aws-ebs-csi-driver: the mode only lets pods run on several nodes, each node mounting its own volume.
 */
export function parseCapability(cap: VolumeCapability | undefined, field = 'volume_capability', opts: { nodeLocal?: boolean } = {}): Access {
  if (!cap) throw invalidArgument(`${field} is required`);
  const mode = cap.accessMode?.mode ?? Mode.UNKNOWN;
  if (mode === Mode.UNKNOWN || mode === Mode.UNRECOGNIZED) throw invalidArgument(`${field}.access_mode is required`);
  if (cap.block && cap.mount) throw invalidArgument(`${field} sets both block and mount`);
  if (cap.block) {
    if (!SINGLE_NODE.has(mode) && mode !== Mode.MULTI_NODE_MULTI_WRITER)
      throw invalidArgument(`${field}.access_mode ${Mode[mode]} is not supported for block volumes`);
    return { kind: 'block', mode };
  }
  if (!cap.mount) throw invalidArgument(`${field} must set block or mount`);
  if (!SINGLE_NODE.has(mode) && !(opts.nodeLocal === true && mode === Mode.MULTI_NODE_MULTI_WRITER))
    throw invalidArgument(`${field}.access_mode ${Mode[mode]} is not supported for filesystem volumes`);
  const fs = (cap.mount.fsType || DEFAULT_FS).toLowerCase();
  if (!isSupportedFs(fs)) throw invalidArgument(`${field}.mount.fs_type "${cap.mount.fsType}" is not supported (use ${SUPPORTED_FS.join(', ')})`);
  const flags = cap.mount.mountFlags
    .flatMap((f) => f.split(','))
    .map((f) => f.trim())
    .filter(Boolean);
  for (const f of flags) {
    if (FORBIDDEN_FLAGS.has(f) || !/^[A-Za-z0-9_=.:+/-]+$/.test(f)) throw invalidArgument(`${field}.mount.mount_flags: "${f.slice(0, 40)}" is not allowed`);
  }
  return { kind: 'mount', mode, fsType: fs, mountFlags: flags };
}
