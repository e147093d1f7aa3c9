import { invalidArgument } from '@plinth/errors';
import { z } from 'zod';
import { bool } from './values.js';

/** VolumeSnapshotClass parameters of a cross-region copy (the names proposed in aws-ebs-csi-driver#2926, plus Plinth's retain). */
export const COPY_PARAMS = {
  region: 'copySnapshotToRegion',
  encrypted: 'copySnapshotEncrypted',
  kmsKeyId: 'copySnapshotDestinationKmsKeyId',
  retain: 'copySnapshotRetain',
} as const;

/** What a class asks of each snapshot's copy in another region. */
export interface CopyParams {
  region: string;
  encrypted: boolean;
  /** A KMS key of the destination region (id, alias, or ARN). */
  kmsKeyId?: string | undefined;
  /** Keep the copy when its source snapshot is deleted. */
  retain: boolean;
}

export const copyParamsSchema: z.ZodType<CopyParams> = z.object({
  region: z.string(),
  encrypted: z.boolean(),
  kmsKeyId: z.string().optional(),
  retain: z.boolean(),
});

/** An AWS region name as the SDK spells them (us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5…). */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const KEY_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/i;
const ALIAS = /^alias\/[A-Za-z0-9/_-]{1,250}$/;
const KMS_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key\/.+|alias\/.+)$/;

/**
 * A KMS key for the copy, in one of KMS's spellings (key id, multi-region key id, alias/name, key or alias ARN),
 * and, when an ARN names its region, of the destination region: a copy is encrypted with a key where it lives.
 */
export function checkKmsKey(key: string, region: string): string {
  const arn = KMS_ARN.exec(key);
  if (arn) {
    const [, keyRegion, , resource] = arn;
    if (!(KEY_ID.test(resource!.replace(/^key\//, '')) || ALIAS.test(resource!)))
      throw invalidArgument(`parameter ${COPY_PARAMS.kmsKeyId}: "${key}" is not a KMS key or alias ARN`);
    if (keyRegion !== region)
      throw invalidArgument(
        `parameter ${COPY_PARAMS.kmsKeyId}: key "${key}" is in region ${keyRegion}, but the copy is made in ${region}; name a key of ${region}`,
      );
    return key;
  }
  if (KEY_ID.test(key) || ALIAS.test(key)) return key;
  throw invalidArgument(`parameter ${COPY_PARAMS.kmsKeyId}: "${key}" is not a KMS key id, multi-region key id (mrk-…), alias (alias/…) or key ARN`);
}

/**
 * The copy parameters of a class, keyed by their lower-cased names (as the class spelled them in `spelled`);
 * undefined when the class asks for no copy. Checks what needs no EC2 call: the region's form, that it is not
 * `ownRegion`, the booleans, the key's form and region, and that a key comes with encryption.
 */
export function parseCopyParams(raw: Map<string, { key: string; value: string }>, ownRegion: string): CopyParams | undefined {
  const get = (name: string) => raw.get(name.toLowerCase());
  const region = get(COPY_PARAMS.region);
  if (!region) {
    const stray = [...raw.values()][0];
    if (stray) throw invalidArgument(`parameter ${stray.key} needs ${COPY_PARAMS.region} (the region to copy each snapshot to)`);
    return undefined;
  }
  const name = region.value.trim();
  if (!REGION.test(name)) throw invalidArgument(`parameter ${region.key}: "${region.value}" is not an AWS region name (such as us-west-2)`);
  if (name === ownRegion) throw invalidArgument(`parameter ${region.key}: ${name} is this cluster's own region; name another region to copy snapshots to`);
  const encryptedRaw = get(COPY_PARAMS.encrypted);
  const encrypted = encryptedRaw ? bool(encryptedRaw.key, encryptedRaw.value) : false;
  const retainRaw = get(COPY_PARAMS.retain);
  const retain = retainRaw ? bool(retainRaw.key, retainRaw.value) : false;
  const keyRaw = get(COPY_PARAMS.kmsKeyId);
  let kmsKeyId: string | undefined;
  if (keyRaw) {
    if (!keyRaw.value.trim()) throw invalidArgument(`parameter ${keyRaw.key}: empty; name a KMS key of ${name} or remove the parameter`);
    if (!encrypted) throw invalidArgument(`parameter ${keyRaw.key} needs ${COPY_PARAMS.encrypted} "true"`);
    kmsKeyId = checkKmsKey(keyRaw.value.trim(), name);
  }
  return { region: name, encrypted, kmsKeyId, retain };
}
