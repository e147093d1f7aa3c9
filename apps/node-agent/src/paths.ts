import { dirname, isAbsolute, normalize, sep } from 'node:path';
import { invalidArgument, notFound } from '@plinth/errors';
import type { HostOs } from './os/host-os.js';

/**
 * A staging or target path must be absolute, already normalised (no "..",
 * "//" or trailing "/") and strictly under the kubelet root. Anything else is
 * INVALID_ARGUMENT naming the field.
 */
export function validatePath(field: string, path: string, kubeletRoot: string): string {
  if (!path) throw invalidArgument(`${field} is required`);
  if (path.includes('\0')) throw invalidArgument(`${field} contains a NUL byte`);
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  if (!isAbsolute(path)) throw invalidArgument(`${field} "${shown}" must be an absolute path`);
  if (normalize(path) !== path || (path.length > 1 && path.endsWith(sep))) {
    throw invalidArgument(`${field} "${shown}" is not normalised (expected "${normalize(path).replace(/\/+$/, '')}")`);
  }
  const root = kubeletRoot.endsWith(sep) ? kubeletRoot : kubeletRoot + sep;
  if (!path.startsWith(root)) throw invalidArgument(`${field} "${shown}" is not under the kubelet root ${kubeletRoot}`);
  return path;
}

/**
 * The (non-empty) volume_path of NodeGetVolumeStats / NodeExpandVolume names where a
 * volume should already be. Traversing ("..") is INVALID_ARGUMENT; a path
 * outside the kubelet root, or relative, cannot hold a volume of ours, so the
 * volume is NOT_FOUND there (as the CSI spec and csi-sanity expect).
 */
export function volumePathOf(path: string, volumeId: string, kubeletRoot: string): string {
  if (path.split(sep).includes('..')) throw invalidArgument(`volume_path "${path.slice(0, 200)}" must not contain ".."`);
  const root = kubeletRoot.endsWith(sep) ? kubeletRoot : kubeletRoot + sep;
  if (!isAbsolute(path) || !normalize(path).startsWith(root))
    throw notFound(`volume ${volumeId} is not at volume_path ${path.slice(0, 200)} (not under the kubelet root ${kubeletRoot})`);
  return validatePath('volume_path', path, kubeletRoot);
}

/**
 * The lexical check above cannot see symlinks: a component under the kubelet
 * root could point elsewhere. Resolves the deepest existing ancestor of `path`
 * and requires it to stay under the (resolved) kubelet root.
 */
export async function assertNoEscape(os: HostOs, field: string, path: string, kubeletRoot: string): Promise<void> {
  const root = await os.realpath(kubeletRoot).catch(() => kubeletRoot);
  let probe = path;
  for (;;) {
    try {
      const real = await os.realpath(probe);
      if (real !== root && !real.startsWith(root + sep)) {
        throw invalidArgument(`${field} "${path}" leads outside the kubelet root through a symlink (${probe} -> ${real})`);
      }
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Not there yet (or a file in the way, which mkdir will report): check the parent.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || probe === dirname(probe)) throw err;
      probe = dirname(probe);
    }
  }
}
