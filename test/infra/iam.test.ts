/**
 * infra/iam/policy.json: least privilege for what the code actually sends to EC2. Mutations only on volumes that
 * carry (or, when created, are created with) the cluster tag; reads unconditioned; no wildcard actions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TAG_CLUSTER } from '@plinth/cloud';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helm.js';
import { list, loadPolicy, type PolicyStatement } from './manifests.js';

const policy = loadPolicy();
const VOLUME = 'arn:aws:ec2:*:*:volume/*';
const SNAPSHOT = 'arn:aws:ec2:*::snapshot/*';
const INSTANCE = 'arn:aws:ec2:*:*:instance/*';

/**
 * Every `new XCommand(` and `paginateX(` of the AWS SDK in the apps' and packages' production sources, as "ec2:X", or
 * "ebs:X" in a file that imports @aws-sdk/client-ebs (the EBS direct APIs).
 */
function actionsInCode(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'gen') walk(p);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        const text = readFileSync(p, 'utf8');
        const service = text.includes("from '@aws-sdk/client-ebs'") ? 'ebs' : 'ec2';
        for (const m of text.matchAll(/new (\w+)Command\(|\bpaginate(\w+)\(/g)) {
          const a = `${service}:${m[1] ?? m[2]}`;
          found.set(a, [...(found.get(a) ?? []), relative(REPO_ROOT, p)]);
        }
      }
    }
  };
  for (const top of ['apps', 'packages']) for (const d of readdirSync(join(REPO_ROOT, top))) walk(join(REPO_ROOT, top, d, 'src'));
  return found;
}

const statementsFor = (action: string): PolicyStatement[] => policy.Statement.filter((s) => list(s.Action).includes(action));
const conditionKeys = (s: PolicyStatement): string[] => Object.values(s.Condition ?? {}).flatMap((c) => Object.keys(c));

describe('the IAM policy', () => {
  it('is a 2012-10-17 document of Allow statements with no wildcard or NotAction', () => {
    expect(policy.Version).toBe('2012-10-17');
    for (const s of policy.Statement) {
      expect(s.Effect).toBe('Allow');
      expect(Object.keys(s).sort()).toEqual(expect.arrayContaining(['Action', 'Effect', 'Resource']));
      expect(s).not.toHaveProperty('NotAction');
      for (const a of list(s.Action)) expect(a, s.Sid).toMatch(/^(ec2|ebs):[A-Z][A-Za-z]+$/);
    }
  });

  it('allows every EC2 action the code sends, and nothing else', () => {
    const used = actionsInCode();
    // Keep the scan honest: these are the calls README and the ops modules describe.
    for (const a of [
      'ec2:CreateVolume',
      'ec2:DeleteVolume',
      'ec2:AttachVolume',
      'ec2:DetachVolume',
      'ec2:ModifyVolume',
      'ec2:CreateTags',
      'ec2:CreateSnapshot',
      'ec2:CreateSnapshots',
      'ec2:DeleteSnapshot',
      'ec2:DescribeVolumes',
      'ec2:DescribeInstances',
      'ec2:DescribeInstanceTypes',
      'ebs:ListSnapshotBlocks',
      'ebs:ListChangedBlocks',
    ])
      expect(used.has(a), a).toBe(true);
    const allowed = new Set(policy.Statement.flatMap((s) => list(s.Action)));
    for (const [a, files] of used) expect(allowed.has(a), `${a} (sent by ${files.join(', ')}) is not in infra/iam/policy.json`).toBe(true);
    expect([...allowed].filter((a) => !used.has(a))).toEqual([]);
  });

  it('leaves Describe* unconditioned on every resource (EC2 reads support no resource-level conditions)', () => {
    for (const s of policy.Statement.filter((x) => list(x.Action).some((a) => a.startsWith('ec2:Describe')))) {
      expect(
        list(s.Action).every((a) => a.startsWith('ec2:Describe')),
        `${s.Sid} mixes reads and writes`,
      ).toBe(true);
      expect(s.Condition, s.Sid).toBeUndefined();
      expect(s.Resource).toBe('*');
    }
  });

  it('creates volumes and snapshots only with the cluster tag in the request, and tags new resources only as part of creating them', () => {
    const key = `aws:RequestTag/${TAG_CLUSTER}`;
    for (const [action, created] of [
      ['ec2:CreateVolume', VOLUME],
      ['ec2:CopyVolumes', VOLUME],
      ['ec2:CreateSnapshot', SNAPSHOT],
      ['ec2:CreateSnapshots', SNAPSHOT],
      ['ec2:CopySnapshot', SNAPSHOT],
    ] as const) {
      const onCreated = statementsFor(action).filter((s) => list(s.Resource).includes(created));
      expect(onCreated.length, action).toBeGreaterThan(0);
      for (const s of onCreated)
        expect(s.Condition?.StringEquals?.[key] ?? s.Condition?.StringEquals?.[`aws:ResourceTag/${TAG_CLUSTER}`], `${action} in ${s.Sid}`).toBeDefined();
      // The new resource itself is allowed only by a statement demanding the tag in the request.
      expect(
        onCreated.some((s) => s.Condition?.StringEquals?.[key] !== undefined),
        action,
      ).toBe(true);
    }
    for (const s of statementsFor('ec2:CreateTags').filter((x) => x.Condition?.StringEquals?.[key] !== undefined)) {
      expect(list(s.Condition?.StringEquals?.['ec2:CreateAction'] ?? []).sort(), s.Sid).toEqual([
        'CopySnapshot',
        'CopyVolumes',
        'CreateSnapshot',
        'CreateSnapshots',
        'CreateVolume',
      ]);
    }
  });

  it('changes, deletes, attaches, copies and snapshots only volumes and snapshots carrying the cluster tag; attach/detach and CreateSnapshots also need the instance', () => {
    const key = `aws:ResourceTag/${TAG_CLUSTER}`;
    const existing: [string, string][] = [
      ['ec2:DeleteVolume', VOLUME],
      ['ec2:ModifyVolume', VOLUME],
      ['ec2:CreateTags', VOLUME],
      ['ec2:AttachVolume', VOLUME],
      ['ec2:DetachVolume', VOLUME],
      ['ec2:CopyVolumes', VOLUME],
      ['ec2:CreateSnapshot', VOLUME],
      ['ec2:CreateSnapshots', VOLUME],
      ['ec2:DeleteSnapshot', SNAPSHOT],
      ['ec2:CopySnapshot', SNAPSHOT],
      ['ec2:EnableFastSnapshotRestores', SNAPSHOT],
      ['ec2:CreateVolume', SNAPSHOT],
    ];
    for (const [action, resource] of existing) {
      const on = statementsFor(action).filter(
        (s) => list(s.Resource).includes(resource) && s.Condition?.StringEquals?.[`aws:RequestTag/${TAG_CLUSTER}`] === undefined,
      );
      expect(on.length, `${action} on ${resource}`).toBeGreaterThan(0);
      for (const s of on) expect(s.Condition?.StringEquals?.[key], `${action} in ${s.Sid}`).toBeDefined();
    }
    for (const action of ['ec2:AttachVolume', 'ec2:DetachVolume', 'ec2:CreateSnapshots'])
      expect(
        statementsFor(action).some((s) => list(s.Resource).includes(INSTANCE)),
        action,
      ).toBe(true);
    for (const action of ['ec2:DeleteVolume', 'ec2:ModifyVolume', 'ec2:CreateTags', 'ec2:DeleteSnapshot'])
      expect(
        statementsFor(action).some((s) => list(s.Resource).includes(INSTANCE)),
        action,
      ).toBe(false);
  });

  it('reads snapshot block maps (EBS direct ListSnapshotBlocks, ListChangedBlocks) on snapshots only, never their data, unconditioned as reads', () => {
    const ebs = policy.Statement.filter((s) => list(s.Action).some((a) => a.startsWith('ebs:')));
    expect(ebs.flatMap((s) => list(s.Action)).sort()).toEqual(['ebs:ListChangedBlocks', 'ebs:ListSnapshotBlocks']);
    for (const s of ebs) {
      expect(list(s.Resource), s.Sid).toEqual([SNAPSHOT]);
      expect(s.Condition, s.Sid).toBeUndefined();
    }
  });

  it('conditions every mutating statement, except attach/detach on instances', () => {
    const isRead = (a: string): boolean => a.startsWith('ec2:Describe') || a.startsWith('ebs:List');
    for (const s of policy.Statement.filter((x) => !list(x.Action).every(isRead))) {
      if (list(s.Resource).every((r) => r === INSTANCE)) continue;
      expect(
        conditionKeys(s).some((k) => k.endsWith(`/${TAG_CLUSTER}`)),
        s.Sid,
      ).toBe(true);
    }
  });
});
