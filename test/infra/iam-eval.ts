/**
 * Enough of IAM's policy evaluation to check Plinth's calls against the policies in infra/iam: Allow statements,
 * Action and Resource with `*`/`?` wildcards, and the condition operators those policies use (StringEquals,
 * StringLike, StringNotEquals, Null, ForAllValues:/ForAnyValue: with either) over aws:RequestTag/…,
 * ec2:ResourceTag/… (aws:ResourceTag/… alike), ec2:CreateAction and aws:TagKeys, with ${aws:PrincipalTag/…}
 * variables. No Deny statements exist in these policies, so none are evaluated.
 */
import type { Policy, PolicyStatement } from './manifests.js';

export type { Policy };

/** One resource of a request, with what IAM knows about it. */
export interface RequestContext {
  resource: string;
  /** Tags the request creates (aws:RequestTag/…, aws:TagKeys). */
  requestTags?: Record<string, string>;
  /** Tags the resource already has (ec2:ResourceTag/…). */
  resourceTags?: Record<string, string>;
  /** The creating action, for CreateTags sent as part of a create (ec2:CreateAction). */
  createAction?: string;
}

const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

function glob(pattern: string, value: string, caseInsensitive = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, caseInsensitive ? 'i' : '').test(value);
}

/** A condition key's values in this request: undefined when the key is absent. */
function keyValues(key: string, r: RequestContext): string[] | undefined {
  const [ns, rest = ''] = [key.slice(0, key.indexOf('/') < 0 ? key.length : key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
  if (ns === 'aws:RequestTag') return r.requestTags && rest in r.requestTags ? [r.requestTags[rest]!] : undefined;
  if (ns === 'ec2:ResourceTag' || ns === 'aws:ResourceTag') return r.resourceTags && rest in r.resourceTags ? [r.resourceTags[rest]!] : undefined;
  if (key === 'ec2:CreateAction') return r.createAction ? [r.createAction] : undefined;
  if (key === 'aws:TagKeys') return r.requestTags ? Object.keys(r.requestTags) : undefined;
  throw new Error(`condition key ${key} is not modelled`);
}

function substitute(value: string, principalTags: Record<string, string>): string {
  return value.replace(/\$\{aws:PrincipalTag\/([^}]+)\}/g, (_, k: string) => principalTags[k] ?? '\u0000unset');
}

function test(op: string, wanted: string[], actual: string[] | undefined): boolean {
  const [set, base] = op.includes(':') ? (op.split(':') as [string, string]) : [undefined, op];
  if (base === 'Null') return (actual === undefined || actual.length === 0) === (wanted[0] === 'true');
  const one = (v: string): boolean => {
    switch (base) {
      case 'StringEquals':
        return wanted.includes(v);
      case 'StringLike':
        return wanted.some((w) => glob(w, v));
      case 'StringNotEquals':
        return !wanted.includes(v);
      default:
        throw new Error(`condition operator ${op} is not modelled`);
    }
  };
  if (set === 'ForAllValues') return (actual ?? []).every(one);
  if (set === 'ForAnyValue') return (actual ?? []).some(one);
  if (actual === undefined) return base === 'StringNotEquals';
  return actual.some(one);
}

function conditionsHold(s: PolicyStatement, r: RequestContext, principalTags: Record<string, string>): boolean {
  for (const [op, keys] of Object.entries(s.Condition ?? {}))
    for (const [key, values] of Object.entries(keys))
      if (
        !test(
          op,
          list(values).map((v) => substitute(v, principalTags)),
          keyValues(key, r),
        )
      )
        return false;
  return true;
}

/** Whether some Allow statement of `policy` grants `action` on this resource of the request. */
export function evaluate(policy: Policy, action: string, r: RequestContext, principalTags: Record<string, string> = {}): boolean {
  return policy.Statement.some(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).some((a) => glob(a, action, true)) &&
      list(s.Resource).some((res) => glob(res, r.resource)) &&
      conditionsHold(s, r, principalTags),
  );
}
