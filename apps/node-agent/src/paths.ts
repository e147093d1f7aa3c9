import { isAbsolute, normalize, sep } from 'node:path';
import { invalidArgument } from '@plinth/errors';

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
