/** Loading the plain manifests, the chart's values and the IAM policy for the infra tests, with just enough types. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { REPO_ROOT } from './helm.js';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface VolumeMount {
  name: string;
  mountPath: string;
  mountPropagation?: string;
  readOnly?: boolean;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
  timeoutSeconds?: number;
}
export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: { privileged?: boolean; allowPrivilegeEscalation?: boolean; runAsUser?: number };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}
interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  emptyDir?: object;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}
export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  priorityClassName?: string;
  hostNetwork?: boolean;
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean };
  tolerations?: { key?: string; operator?: string; effect?: string }[];
  containers: Container[];
  volumes?: Volume[];
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  rules?: Rule[];
  subjects?: { kind: string; name: string; namespace?: string }[];
  roleRef?: { kind: string; name: string; apiGroup: string };
  parameters?: Record<string, string>;
  [key: string]: unknown;
}

export const path = (rel: string): string => join(REPO_ROOT, rel);
export const readText = (rel: string): string => readFileSync(path(rel), 'utf8');

/** Every document of a YAML stream; a parse error or warning fails loudly, empty documents are dropped. */
export function parseManifests(text: string, what: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${what}: ${problems.map((e) => e.message).join('; ')}`);
    const v = doc.toJS() as Manifest | null;
    if (v !== null) out.push(v);
  }
  return out;
}

export const loadManifests = (rel: string): Manifest[] => parseManifests(readText(rel), rel);
export const loadYaml = <T>(rel: string): T => parse(readText(rel)) as T;

export function find(docs: Manifest[], kind: string, name: string): Manifest {
  const m = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!m) throw new Error(`no ${kind} ${name} among ${docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return m;
}

export const podSpec = (m: Manifest): PodSpec => (m.spec as { template: { spec: PodSpec } }).template.spec;

export function container(spec: PodSpec, name: string): Container {
  const c = spec.containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name} among ${spec.containers.map((x) => x.name).join(', ')}`);
  return c;
}

export function env(c: Container, name: string): EnvVar | undefined {
  return c.env?.find((e) => e.name === name);
}

export function envValue(c: Container, name: string): string {
  const v = env(c, name)?.value;
  if (v === undefined) throw new Error(`container ${c.name} has no literal ${name}`);
  return v;
}

/**
 * The environment a container would see, with stand-ins for values the cluster supplies
 * (Secret keys, the downward API), so the app's own schema can validate it.
 */
export function effectiveEnv(c: Container): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) out[e.name] = e.name === 'REDIS_URL' ? 'redis://:secret@plinth-redis.kube-system.svc:6379/0' : 'from-a-secret';
    else if (e.valueFrom?.fieldRef) out[e.name] = 'ip-10-0-0-1.ec2.internal';
  }
  return out;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface Policy {
  Version: string;
  Statement: PolicyStatement[];
}
export const loadPolicy = (): Policy => JSON.parse(readText('infra/iam/policy.json')) as Policy;
export const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);
