import { describe, expect, it } from 'vitest';
import { describeVolumeStatusXml, overrideVolumeStates, requestedVolumeIds } from './volume-status.js';

describe('volume status override', () => {
  it('reads the volume ids a request names, by id list or by volume-id filter', () => {
    const p = new URLSearchParams(
      'Action=DescribeVolumeStatus&Filter.1.Name=volume-id&Filter.1.Value.1=vol-a&Filter.1.Value.2=vol-b&Filter.2.Name=x&Filter.2.Value.1=vol-z&VolumeId.1=vol-c',
    );
    expect(requestedVolumeIds(p).sort()).toEqual(['vol-a', 'vol-b', 'vol-c']);
  });

  it('answers the override for overridden volumes and ok for the others', () => {
    const xml = describeVolumeStatusXml(new URLSearchParams('Filter.1.Name=volume-id&Filter.1.Value.1=vol-a&Filter.1.Value.2=vol-b'), {
      'vol-a': { status: 'impaired', ioEnabled: 'failed', event: { type: 'potential-data-inconsistency', description: 'I/O disabled' } },
    });
    expect(xml).toContain(
      '<volumeId>vol-a</volumeId><volumeStatus><status>impaired</status><details><item><name>io-enabled</name><status>failed</status></item>',
    );
    expect(xml).toContain('<eventType>potential-data-inconsistency</eventType>');
    expect(xml).toContain('<volumeId>vol-b</volumeId><volumeStatus><status>ok</status>');
  });

  it('rewrites the state of chosen volumes in a DescribeVolumes answer, not their attachments', () => {
    const xml =
      '<volumeSet><item><volumeId>vol-a</volumeId><status>in-use</status><attachmentSet><item><volumeId>vol-a</volumeId><status>attached</status></item></attachmentSet></item>' +
      '<item><volumeId>vol-b</volumeId><status>available</status></item></volumeSet>';
    const out = overrideVolumeStates(xml, { 'vol-a': 'error' });
    expect(out).toContain('<volumeId>vol-a</volumeId><status>error</status><attachmentSet><item><volumeId>vol-a</volumeId><status>attached</status>');
    expect(out).toContain('<volumeId>vol-b</volumeId><status>available</status>');
  });
});
