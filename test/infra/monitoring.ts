/**
 * infra/monitoring's alert rules and Grafana dashboard, and the series their PromQL selects: what
 * monitoring.test.ts checks statically and monitoring.int.test.ts checks against live /metrics.
 */
import { parse } from 'yaml';
import { readText } from './manifests.js';

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}
interface Panel {
  title: string;
  /** "row" heads a group of panels and queries nothing. */
  type?: string;
  targets?: { expr: string; refId: string }[];
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

export const RULES_FILE = 'infra/monitoring/plinth-rules.yaml';
export const DASHBOARD_FILE = 'infra/monitoring/plinth-dashboard.json';
export const PROMETHEUS_RULE_FILE = 'infra/monitoring/prometheusrule.yaml';

export const loadRules = (): RuleGroup[] => (parse(readText(RULES_FILE)) as { groups: RuleGroup[] }).groups;
export const loadDashboard = (): Dashboard => JSON.parse(readText(DASHBOARD_FILE)) as Dashboard;

/** Every PromQL expression, named by where it comes from. */
export function expressions(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const g of loadRules()) for (const r of g.rules) out.push({ where: `rule ${r.alert}`, expr: r.expr });
  for (const p of loadDashboard().panels) for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
  return out;
}

interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}
export interface Selector {
  metric: string;
  matchers: Matcher[];
}

/** Series from outside Plinth that the rules use, with where they come from. */
export const EXTERNAL_SERIES: Record<string, string> = {
  kube_volumeattachment_info: 'kube-state-metrics (VolumeAttachments by attacher and node)',
};

/**
 * The metric selectors of an expression: a metric name (Plinth's, the aws-ebs-csi-driver-compatible names, or
 * one of EXTERNAL_SERIES) with its label matchers. Functions and keywords are not metric names, so only names
 * with those prefixes count; every other identifier is checked not to look like a metric by the unit test.
 */
export function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  const re = /\b((?:plinth|aws_ebs_csi|kube)_[a-zA-Z0-9_:]*)\s*(\{([^}]*)\})?/g;
  for (const m of expr.matchAll(re)) {
    const matchers: Matcher[] = [];
    for (const mm of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
      matchers.push({ label: mm[1]!, op: mm[2] as Matcher['op'], value: mm[3]! });
    }
    out.push({ metric: m[1]!, matchers });
  }
  return out;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of a Prometheus text exposition (comments skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/**
 * Why no sample satisfies the selector, or undefined when one does. Equality matchers need that exact label
 * value; the other matchers need the label present (a negative or regex matcher says which values count, and
 * the label must exist for it to mean anything).
 */
export function unmatched(sel: Selector, samples: Sample[]): string | undefined {
  const family = samples.filter((s) => s.name === sel.metric);
  if (family.length === 0) return `no series ${sel.metric}`;
  const ok = family.some((s) => sel.matchers.every((m) => (m.op === '=' ? s.labels[m.label] === m.value : m.label in s.labels)));
  if (ok) return undefined;
  const want = sel.matchers.map((m) => `${m.label}${m.op}"${m.value}"`).join(',');
  return `no series ${sel.metric}{${want}} among ${family.length} ${sel.metric} series (labels seen: ${[...new Set(family.flatMap((s) => Object.entries(s.labels).map(([k, v]) => `${k}=${v}`)))].slice(0, 30).join(' ')})`;
}
