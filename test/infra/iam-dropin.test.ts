/**
 * Every EC2 action Plinth's Cloud implementation can send (each `new …Command(` in packages/cloud/src/aws/), with
 * the tags Plinth really puts on volumes and snapshots (made by the controller's operations on the in-memory
 * cloud), must be allowed by each IAM policy in infra/iam/: Plinth's own (policy.json), aws-ebs-csi-driver's
 * managed policy's equivalent (managed-policy.json) and its EKS cluster-scoped one (cluster-scoped-policy.json).
 * The policies' conditions are evaluated here: aws:RequestTag, ec2:ResourceTag, ec2:CreateAction, aws:TagKeys.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryCloud } from '@plinth/cloud/memory';
import { createLogger } from '@plinth/logger';
import type { OpContext } from '@plinth/queue';
import { beforeAll, describe, expect, it } from 'vitest';
import { Cloud } from '../../apps/controller/src/cloud.js';
import { createVolumeOp } from '../../apps/controller/src/ops/create-volume.js';
import { MemoryNamesSeen } from '../../apps/controller/src/names-seen.js';
import { createSnapshotOp } from '../../apps/controller/src/ops/create-snapshot.js';
import { copyTags } from '../../apps/controller/src/ops/copy-snapshot.js';
import { parseSnapshotParams } from '../../apps/controller/src/params/snapshot-params.js';
import { parseVolumeParams } from '../../apps/controller/src/params/volume-params.js';
import { evaluate, type Policy, type RequestContext } from './iam-eval.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLUSTER = 'prod-1';
const log = createLogger({ name: 'iam-test', level: 'silent' });
const ctx = (): OpContext => ({ signal: new AbortController().signal, jobId: 'j', attempt: 1, log });

const volumeArn = (id: string) => `arn:aws:ec2:us-east-1:111122223333:volume/${id}`;
const snapshotArn = (id: string) => `arn:aws:ec2:us-east-1::snapshot/${id}`;
const instanceArn = 'arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0';
/** An EKS node: the instance tag the cluster-scoped policy tests for attaching. */
const instanceTags = { 'eks:cluster-name': CLUSTER };

/** The EC2 actions in Plinth's AWS implementation of the Cloud interface. */
async function actionsInCloud(): Promise<string[]> {
  const dir = join(ROOT, 'packages', 'cloud', 'src', 'aws');
  const found = new Set<string>();
  for (const f of await readdir(dir)) {
    if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
    for (const m of (await readFile(join(dir, f), 'utf8')).matchAll(/new ([A-Za-z]+)Command\(/g)) found.add(m[1]!);
  }
  return [...found].sort();
}

let volumeTags: Record<string, string>;
let snapshotTags: Record<string, string>;
/** The tags of a snapshot's cross-region copy (copySnapshotToRegion), as the copy job sends them. */
let copiedTags: Record<string, string>;
/** Each action's requests, one context per resource the request names (IAM authorises every resource). */
let requests: Record<string, RequestContext[][]>;

beforeAll(async () => {
  const api = new MemoryCloud();
  const cloud = new Cloud(api, 'plinth', { pollIntervalMs: 10, log, k8sClusterId: CLUSTER, extraTags: { team: 'storage' } });
  const params = parseVolumeParams({ tagSpecification_1: 'pvc={{ .PVCName }}', 'csi.storage.k8s.io/pvc/name': 'data' });
  const job = { name: 'pvc-1', sizeGiB: 4, requiredBytes: 0, limitBytes: 0, zone: 'us-east-1a', allowedZones: [], params, multiAttach: false };
  const { volumeId } = await createVolumeOp(cloud, new MemoryNamesSeen())(job, ctx());
  volumeTags = (await api.volumes.get([volumeId])).get(volumeId)!.tags;
  const snap = await createSnapshotOp(cloud)({ name: 'snap-1', sourceVolumeId: volumeId, params: parseSnapshotParams({ tagSpecification_1: 'a=b' }) }, ctx());
  snapshotTags = (await api.snapshots.get([snap.snapshotId])).get(snap.snapshotId)!.tags;
  copiedTags = copyTags(snapshotTags, snap.snapshotId, 'us-east-1');
  cloud.watcher.close(new Error('done'));

  const vol = volumeArn(volumeId);
  const snapArn = snapshotArn(snap.snapshotId);
  const newVol = volumeArn('*');
  const newSnap = snapshotArn('*');
  const tagOnCreate = (resource: string, action: string, tags: Record<string, string>): RequestContext[] => [
    { resource, createAction: action, requestTags: tags },
  ];
  requests = {
    CreateVolume: [
      [{ resource: newVol, requestTags: volumeTags }],
      [
        { resource: newVol, requestTags: volumeTags },
        { resource: snapArn, resourceTags: snapshotTags },
      ],
    ],
    CopyVolumes: [
      [
        { resource: newVol, requestTags: volumeTags },
        { resource: vol, resourceTags: volumeTags },
      ],
    ],
    CreateTags: [
      tagOnCreate(newVol, 'CreateVolume', volumeTags),
      tagOnCreate(newVol, 'CopyVolumes', volumeTags),
      tagOnCreate(newSnap, 'CreateSnapshot', snapshotTags),
      tagOnCreate(newSnap, 'CreateSnapshots', snapshotTags),
      tagOnCreate(newSnap, 'CopySnapshot', copiedTags),
      // ControllerModifyVolume's tagSpecification_N (and the iopsPerGB tags) on an existing volume.
      [{ resource: vol, resourceTags: volumeTags, requestTags: { tier: 'gold', 'plinth.dev/iops-per-gb': '50' } }],
    ],
    DeleteTags: [[{ resource: vol, resourceTags: volumeTags, requestTags: { location: '' } }]],
    DeleteVolume: [[{ resource: vol, resourceTags: volumeTags }]],
    ModifyVolume: [[{ resource: vol, resourceTags: volumeTags }]],
    AttachVolume: [
      [
        { resource: vol, resourceTags: volumeTags },
        { resource: instanceArn, resourceTags: instanceTags },
      ],
    ],
    DetachVolume: [
      [
        { resource: vol, resourceTags: volumeTags },
        { resource: instanceArn, resourceTags: instanceTags },
      ],
    ],
    CreateSnapshot: [
      [
        { resource: vol, resourceTags: volumeTags },
        { resource: newSnap, requestTags: snapshotTags },
      ],
    ],
    CreateSnapshots: [
      [
        { resource: instanceArn, resourceTags: instanceTags },
        { resource: vol, resourceTags: volumeTags },
        { resource: newSnap, requestTags: snapshotTags },
      ],
    ],
    // In the destination region: the new copy, and the source snapshot it is read from.
    CopySnapshot: [
      [
        { resource: newSnap, requestTags: copiedTags },
        { resource: snapArn, resourceTags: snapshotTags },
      ],
    ],
    DeleteSnapshot: [
      [{ resource: snapArn, resourceTags: snapshotTags }],
      // A copy, deleted with its source.
      [{ resource: snapArn, resourceTags: copiedTags }],
    ],
    EnableFastSnapshotRestores: [[{ resource: snapArn, resourceTags: snapshotTags }]],
  };
});

const POLICIES = ['policy.json', 'managed-policy.json', 'cluster-scoped-policy.json'];
/** What the cluster-scoped policy's ${aws:PrincipalTag/eks-cluster-name} reads: EKS Pod Identity's session tag; Plinth's own policy names clusterId "plinth". */
const principalTags = { 'eks-cluster-name': CLUSTER };

describe('IAM policies in infra/iam allow every EC2 call Plinth makes, with the tags it sends', () => {
  it('tags volumes and snapshots with aws-ebs-csi-driver ownership tags and Plinth’s', () => {
    expect(volumeTags).toMatchObject({
      CSIVolumeName: 'pvc-1',
      'ebs.csi.aws.com/cluster': 'true',
      'ebs.csi.aws.com/cluster-name': CLUSTER,
      [`kubernetes.io/cluster/${CLUSTER}`]: 'owned',
      'plinth.dev/cluster-id': 'plinth',
      pvc: 'data',
      team: 'storage',
    });
    expect(snapshotTags).toMatchObject({ CSIVolumeSnapshotName: 'snap-1', 'ebs.csi.aws.com/cluster': 'true', 'ebs.csi.aws.com/cluster-name': CLUSTER });
  });

  it('has a request for every action the AWS Cloud implementation sends', async () => {
    const writes = (await actionsInCloud()).filter((a) => !a.startsWith('Describe'));
    expect(Object.keys(requests).sort()).toEqual(writes);
  });

  it.each(POLICIES)('%s allows each of them', async (file) => {
    const policy = JSON.parse(await readFile(join(ROOT, 'infra', 'iam', file), 'utf8')) as Policy;
    const denied: string[] = [];
    for (const action of await actionsInCloud()) {
      const reqs = requests[action] ?? [[{ resource: '*' }]];
      for (const req of reqs)
        for (const r of req) if (!evaluate(policy, `ec2:${action}`, r, principalTags)) denied.push(`${action} on ${r.resource} ${JSON.stringify(r)}`);
    }
    expect(denied).toEqual([]);
  });

  it('changed-block tracking reads snapshot block maps: Plinth’s policy allows it on any snapshot; the aws-ebs-csi-driver ones need it added', async () => {
    const read = async (file: string) => JSON.parse(await readFile(join(ROOT, 'infra', 'iam', file), 'utf8')) as Policy;
    const onSnapshot = { resource: snapshotArn('snap-0123456789abcdef0'), resourceTags: {} };
    for (const action of ['ebs:ListSnapshotBlocks', 'ebs:ListChangedBlocks']) {
      expect(evaluate(await read('policy.json'), action, onSnapshot, principalTags), action).toBe(true);
      // docs/changed-blocks.md tells users of these policies to add the two actions.
      for (const file of ['managed-policy.json', 'cluster-scoped-policy.json'])
        expect(evaluate(await read(file), action, onSnapshot, principalTags), `${action} in ${file}`).toBe(false);
    }
  });

  it('denies what the conditions are there to deny (the evaluator is not a rubber stamp)', async () => {
    const managed = JSON.parse(await readFile(join(ROOT, 'infra', 'iam', 'managed-policy.json'), 'utf8')) as Policy;
    const scoped = JSON.parse(await readFile(join(ROOT, 'infra', 'iam', 'cluster-scoped-policy.json'), 'utf8')) as Policy;
    const foreign = { resource: volumeArn('vol-0ffffffffffffffff'), resourceTags: { Name: 'not ours' } };
    expect(evaluate(managed, 'ec2:DeleteVolume', foreign, principalTags)).toBe(false);
    expect(evaluate(scoped, 'ec2:ModifyVolume', foreign, principalTags)).toBe(false);
    expect(evaluate(managed, 'ec2:CreateVolume', { resource: volumeArn('*'), requestTags: { Name: 'x' } }, principalTags)).toBe(false);
    expect(evaluate(managed, 'ec2:CreateTags', { resource: volumeArn('vol-1'), resourceTags: {}, requestTags: { a: 'b' } }, principalTags)).toBe(false);
    // The cluster-scoped policy protects the ownership tags from being rewritten.
    const ours = { resource: volumeArn('vol-1'), resourceTags: { 'ebs.csi.aws.com/cluster-name': CLUSTER } };
    expect(evaluate(scoped, 'ec2:CreateTags', { ...ours, requestTags: { 'ebs.csi.aws.com/cluster-name': 'other' } }, principalTags)).toBe(false);
    expect(evaluate(scoped, 'ec2:CreateTags', { ...ours, requestTags: { tier: 'gold' } }, principalTags)).toBe(true);
    expect(evaluate(scoped, 'ec2:CreateTags', { ...ours, requestTags: { tier: 'gold' } }, { 'eks-cluster-name': 'other' })).toBe(false);
  });
});
