import { TAG_CSI_NAME, TAG_SNAPSHOT_NAME } from '@plinth/cloud';
import { invalidArgument } from '@plinth/errors';
import { evaluateTemplate } from './template.js';

/**
 * Why a tag key is not the user's to set or delete, or undefined: EC2's `aws:`,
 * and what aws-ebs-csi-driver reserves (its name tags, `kubernetes.io…`, its
 * driver prefix and cluster-name tag) plus Plinth's own prefixes.
 */
function reservedTagKey(key: string): string | undefined {
  if (key.toLowerCase().startsWith('aws:')) return 'uses the reserved "aws:" prefix';
  if (key === TAG_CSI_NAME || key === TAG_SNAPSHOT_NAME) return 'is reserved by Plinth';
  for (const prefix of ['kubernetes.io', 'ebs.csi.aws.com/', 'ebs.csi.plinth.dev/', 'plinth.dev/'])
    if (key.startsWith(prefix)) return `is reserved by Plinth (prefix "${prefix}")`;
  return undefined;
}

function checkUserTag(key: string, param: string): void {
  const why = reservedTagKey(key);
  if (why) throw invalidArgument(`parameter ${param}: tag key "${key}" ${why}`);
  if (key.length === 0) throw invalidArgument(`parameter ${param}: empty tag key`);
  if (key.length > 128) throw invalidArgument(`parameter ${param}: tag key longer than 128 characters`);
}

/**
 * A `tagSpecification…` parameter ("key=value"; any key starting with
 * tagSpecification, matched case-insensitively, as aws-ebs-csi-driver) as a
 * checked [key, value template]; undefined for any other parameter.
 */
export function tagSpecification(rawKey: string, value: string): [string, string] | undefined {
  if (!/^tagspecification/i.test(rawKey)) return undefined;
  const eq = value.indexOf('=');
  if (eq <= 0) throw invalidArgument(`parameter ${rawKey}: expected "key=value", got "${value}"`);
  const tagKey = value.slice(0, eq).trim();
  checkUserTag(tagKey, rawKey);
  return [tagKey, value.slice(eq + 1).trim()];
}

/** A `tagDeletion…` parameter (VolumeAttributesClass): the tag key to delete, checked; undefined for any other parameter. */
export function tagDeletion(rawKey: string, value: string): string | undefined {
  if (!/^tagdeletion/i.test(rawKey)) return undefined;
  const key = value.trim();
  checkUserTag(key, rawKey);
  return key;
}

/**
 * `tagSpecification…` parameters as written, evaluated once the Kubernetes
 * names they may refer to are known (they can come in any order in a class).
 */
export class TagTemplates {
  private readonly specs: { param: string; key: string; template: string }[] = [];

  /** Takes the parameter if it is a tagSpecification; answers whether it was. */
  add(rawKey: string, value: string): boolean {
    const tag = tagSpecification(rawKey, value);
    if (tag) this.specs.push({ param: rawKey, key: tag[0], template: tag[1] });
    return tag !== undefined;
  }

  /** Tag key → value; a template that fails is INVALID_ARGUMENT naming its parameter. */
  evaluate(data: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const { param, key, template } of this.specs) {
      let value: string;
      try {
        value = evaluateTemplate(template, data);
      } catch (err) {
        throw invalidArgument(`parameter ${param}: tag template "${template}": ${(err as Error).message}`);
      }
      if (value.length > 256) throw invalidArgument(`parameter ${param}: tag value longer than 256 characters`);
      out[key] = value;
    }
    return out;
  }
}

/** Template fields of a volume (PVC and PV names from the provisioner's or resizer's metadata; empty when absent, as there). */
export function volumeTemplateData(p: {
  pvcName?: string | undefined;
  pvcNamespace?: string | undefined;
  pvName?: string | undefined;
}): Record<string, string> {
  return { PVCName: p.pvcName ?? '', PVCNamespace: p.pvcNamespace ?? '', PVName: p.pvName ?? '' };
}

/**
 * Cluster-wide extra tags (EXTRA_TAGS: "k1=v1,k2=v2", aws-ebs-csi-driver's
 * --extra-tags) as a map, reserved keys refused; throws a plain Error for the
 * config loader.
 */
export function parseExtraTags(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of value.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`expected key=value pairs separated by commas, got "${pair}"`);
    const key = pair.slice(0, eq).trim();
    const why = reservedTagKey(key);
    if (why) throw new Error(`tag key "${key}" ${why}`);
    if (key.length > 128) throw new Error(`tag key "${key}" is longer than 128 characters`);
    out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}
