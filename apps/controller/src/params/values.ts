import { invalidArgument } from '@plinth/errors';
import { isVolumeType, VOLUME_TYPES, type VolumeType } from './volume-types.js';

/** Parsers of single parameter values, naming the parameter when a value is wrong. */

export function positiveInt(key: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw invalidArgument(`parameter ${key}: expected a positive integer, got "${value}"`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw invalidArgument(`parameter ${key}: expected a positive integer, got "${value}"`);
  return n;
}

export function bool(key: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidArgument(`parameter ${key}: expected "true" or "false", got "${value}"`);
}

export function parseType(value: string): VolumeType {
  const t = value.trim().toLowerCase();
  if (!isVolumeType(t)) throw invalidArgument(`parameter type: unknown volume type "${value}"; one of ${VOLUME_TYPES.join(', ')}`);
  return t;
}
