import { describe, expect, it } from 'vitest';
import { LEGACY_ZONE_KEY, pickZone, requisiteZones, topologyFor, withZoneNames, ZONE_ID_KEY, ZONE_KEY } from './topology.js';

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

describe('the zone-ID key topology.k8s.aws/zone-id', () => {
  const zones = [
    { name: 'us-east-1a', id: 'use1-az4' },
    { name: 'us-east-1b', id: 'use1-az6' },
  ];
  let lookups = 0;
  const deps = {
    cloud: {
      api: {
        zones: {
          list: () => {
            lookups++;
            return Promise.resolve(zones);
          },
        },
      },
    },
  };

  it('picks the zone a zone ID names, in requisite and preferred topologies', async () => {
    const req = { requisite: [t('use1-az4', ZONE_ID_KEY), t('use1-az6', ZONE_ID_KEY)], preferred: [t('use1-az6', ZONE_ID_KEY)] };
    const named = await withZoneNames(deps, req);
    expect(pickZone(named, 'z')).toBe('us-east-1b');
    expect(requisiteZones(named)).toEqual(['us-east-1a', 'us-east-1b']);
  });

  it('asks EC2 only when a segment has a zone ID and no zone name', async () => {
    lookups = 0;
    await withZoneNames(deps, { requisite: [t('us-east-1a')], preferred: [] });
    await withZoneNames(deps, undefined);
    expect(lookups).toBe(0);
  });

  it('refuses a zone ID the region lacks, naming it', async () => {
    await expect(withZoneNames(deps, { requisite: [t('use1-az9', ZONE_ID_KEY)], preferred: [] })).rejects.toMatchObject({
      kind: 'InvalidArgument',
      message: expect.stringContaining('topology.k8s.aws/zone-id "use1-az9"') as unknown,
    });
  });
});
