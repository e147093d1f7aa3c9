import { describe, expect, it } from 'vitest';
import { LEGACY_ZONE_KEY, pickZone, requisiteZones, topologyFor, ZONE_KEY } from './topology.js';

const t = (zone: string, key = ZONE_KEY) => ({ segments: { [key]: zone } });

describe('zone choice', () => {
  it('takes preferred first, then requisite, then the fallback', () => {
    expect(pickZone({ requisite: [t('a'), t('b')], preferred: [t('b')] }, 'z')).toBe('b');
    expect(pickZone({ requisite: [t('a'), t('b')], preferred: [] }, 'z')).toBe('a');
    expect(pickZone(undefined, 'z')).toBe('z');
  });

  it('accepts the legacy key and skips preferred zones outside requisite', () => {
    expect(pickZone({ requisite: [t('a', LEGACY_ZONE_KEY)], preferred: [t('c')] }, 'z')).toBe('a');
  });

  it('rejects requirements that name no zone', () => {
    expect(() => pickZone({ requisite: [{ segments: { 'kubernetes.io/hostname': 'n1' } }], preferred: [] }, 'z')).toThrow(/no segment carries/);
  });

  it('lists requisite zones once and reports both keys back', () => {
    expect(requisiteZones({ requisite: [t('a'), t('a', LEGACY_ZONE_KEY), t('b')], preferred: [] })).toEqual(['a', 'b']);
    expect(topologyFor('a').segments).toEqual({ [ZONE_KEY]: 'a', [LEGACY_ZONE_KEY]: 'a' });
  });
});
