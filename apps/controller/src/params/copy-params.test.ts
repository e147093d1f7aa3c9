import { isPlinthError } from '@plinth/errors';
import { describe, expect, it } from 'vitest';
import { checkKmsKey } from './copy-params.js';
import { parseSnapshotParams, snapshotTags } from './snapshot-params.js';

const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';
const parse = (p: Record<string, string>) => parseSnapshotParams(p, 'us-east-1');

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isPlinthError(err) && err.kind === 'InvalidArgument') return err.message;
    throw err;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('cross-region copy parameters of a VolumeSnapshotClass', () => {
  it('asks for no copy without copySnapshotToRegion', () => {
    expect(parse({}).copy).toBeUndefined();
  });

  it('reads the region, encryption, key and retain, keys matched case-insensitively', () => {
    expect(parse({ copySnapshotToRegion: 'us-west-2' }).copy).toEqual({ region: 'us-west-2', encrypted: false, kmsKeyId: undefined, retain: false });
    expect(
      parse({
        COPYSNAPSHOTTOREGION: ' eu-west-1 ',
        copySnapshotEncrypted: 'true',
        copysnapshotdestinationkmskeyid: `arn:aws:kms:eu-west-1:111122223333:key/${KEY}`,
        copySnapshotRetain: 'TRUE',
      }).copy,
    ).toEqual({ region: 'eu-west-1', encrypted: true, kmsKeyId: `arn:aws:kms:eu-west-1:111122223333:key/${KEY}`, retain: true });
  });

  it('refuses what cannot be a copy, naming the parameter', () => {
    expect(refusal(() => parse({ copySnapshotToRegion: 'Mars' }))).toBe('parameter copySnapshotToRegion: "Mars" is not an AWS region name (such as us-west-2)');
    expect(refusal(() => parse({ copySnapshotToRegion: 'us-east-1' }))).toMatch(/^parameter copySnapshotToRegion: us-east-1 is this cluster's own region/);
    expect(refusal(() => parse({ copySnapshotEncrypted: 'true' }))).toBe(
      'parameter copySnapshotEncrypted needs copySnapshotToRegion (the region to copy each snapshot to)',
    );
    expect(refusal(() => parse({ copySnapshotToRegion: 'us-west-2', copySnapshotRetain: 'yes' }))).toBe(
      'parameter copySnapshotRetain: expected "true" or "false", got "yes"',
    );
    expect(refusal(() => parse({ copySnapshotToRegion: 'us-west-2', copySnapshotDestinationKmsKeyId: KEY }))).toBe(
      'parameter copySnapshotDestinationKmsKeyId needs copySnapshotEncrypted "true"',
    );
    expect(refusal(() => parse({ copySnapshotToRegion: 'us-west-2', copySnapshotFancy: 'x' }))).toMatch(/^unknown snapshot parameter "copySnapshotFancy"/);
  });

  it('takes KMS key ids, multi-region ids, aliases and ARNs of the destination region; refuses other forms and keys of another region', () => {
    for (const k of [
      KEY,
      `mrk-${'a'.repeat(32)}`,
      'alias/dr-key',
      `arn:aws:kms:us-west-2:111122223333:key/${KEY}`,
      'arn:aws:kms:us-west-2:111122223333:alias/dr',
    ])
      expect(checkKmsKey(k, 'us-west-2')).toBe(k);
    expect(refusal(() => checkKmsKey('my-key', 'us-west-2'))).toMatch(/^parameter copySnapshotDestinationKmsKeyId: "my-key" is not a KMS key id/);
    expect(refusal(() => checkKmsKey('arn:aws:kms:us-west-2:111122223333:key/nope', 'us-west-2'))).toMatch(/is not a KMS key or alias ARN$/);
    expect(refusal(() => checkKmsKey(`arn:aws:kms:us-east-1:111122223333:key/${KEY}`, 'us-west-2'))).toBe(
      `parameter copySnapshotDestinationKmsKeyId: key "arn:aws:kms:us-east-1:111122223333:key/${KEY}" is in region us-east-1, but the copy is made in us-west-2; name a key of us-west-2`,
    );
  });

  it('tags the snapshot with where its copy goes and whether it is kept', () => {
    const owner = { extraTags: {}, ownerTags: () => ({ 'plinth.dev/cluster-id': 'c1' }) };
    expect(snapshotTags('s1', owner, parse({ copySnapshotToRegion: 'us-west-2', copySnapshotRetain: 'true' }))).toMatchObject({
      'plinth.dev/copy-to-region': 'us-west-2',
      'plinth.dev/copy-retain': 'true',
    });
    expect(snapshotTags('s1', owner, parse({ copySnapshotToRegion: 'us-west-2' }))).not.toHaveProperty('plinth.dev/copy-retain');
    expect(snapshotTags('s1', owner, parse({}))).not.toHaveProperty('plinth.dev/copy-to-region');
  });
});
