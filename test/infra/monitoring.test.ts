/**
 * infra/monitoring: the rules file, the PrometheusRule and the chart's copies say the same thing; every rule and
 * panel is complete; the chart ships them only when asked. Whether the series exist is monitoring.int.test.ts's job.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureHelm, renderChart } from './helm.js';
import { find, parseManifests, path, readText } from './manifests.js';
import {
  DASHBOARD_FILE,
  EXTERNAL_SERIES,
  expressions,
  loadDashboard,
  loadRules,
  PROMETHEUS_RULE_FILE,
  RULES_FILE,
  selectors,
  type RuleGroup,
} from './monitoring.js';

let helm = '';
beforeAll(async () => {
  helm = await ensureHelm();
}, 15 * 60_000);

describe('infra/monitoring', () => {
  it('keeps the chart’s copies byte-identical (infra/helm/plinth/files/)', async () => {
    for (const f of [RULES_FILE, DASHBOARD_FILE]) {
      const copy = f.replace('infra/monitoring/', 'infra/helm/plinth/files/');
      expect(await readFile(path(copy), 'utf8'), `${copy} differs from ${f}; copy it over`).toBe(readText(f));
    }
  });

  it('has the same groups in the PrometheusRule as in the plain rules file', () => {
    const cr = parse(readText(PROMETHEUS_RULE_FILE)) as { kind: string; spec: { groups: RuleGroup[] } };
    expect(cr.kind).toBe('PrometheusRule');
    expect(cr.spec.groups).toEqual(loadRules());
  });

  it('alerts on what an operator watches, each rule complete', () => {
    const rules = loadRules().flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert).sort()).toEqual(
      [
        'PlinthAttachSlow',
        'PlinthCSIErrors',
        'PlinthDetachSlow',
        'PlinthEC2Errors',
        'PlinthEC2Throttled',
        'PlinthJobsFailing',
        'PlinthNodeNearAttachLimit',
        'PlinthQueueBacklog',
        'PlinthSnapshotCopiesFailing',
        'PlinthVolumeUnhealthy',
      ].sort(),
    );
    for (const r of rules) {
      expect(r.expr.trim(), r.alert).not.toBe('');
      expect(r.for, r.alert).toMatch(/^\d+m$/);
      expect(r.labels?.severity, r.alert).toMatch(/^(warning|critical)$/);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
    }
  });

  it('has a dashboard whose every panel queries something, with unique ids', () => {
    const d = loadDashboard();
    expect(d.uid).toBe('plinth-overview');
    expect(d.panels.length).toBeGreaterThanOrEqual(10);
    for (const p of d.panels) expect(p.type === 'row' ? p.title : p.targets?.length, p.title).toBeTruthy();
    const ids = d.panels.map((p) => (p as { id?: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('selects only Plinth series, apart from the listed external ones, and every expression selects something', () => {
    for (const { where, expr } of expressions()) {
      const sels = selectors(expr);
      expect(sels.length, where).toBeGreaterThan(0);
      for (const s of sels)
        expect(s.metric.startsWith('plinth_') || s.metric.startsWith('aws_ebs_csi_') || s.metric in EXTERNAL_SERIES, `${where}: ${s.metric}`).toBe(true);
    }
    expect(selectors('sum by (action) (rate(plinth_ec2_api_requests_total{outcome="throttled", action=~"Attach.*"}[5m]))')).toEqual([
      {
        metric: 'plinth_ec2_api_requests_total',
        matchers: [
          { label: 'outcome', op: '=', value: 'throttled' },
          { label: 'action', op: '=~', value: 'Attach.*' },
        ],
      },
    ]);
  });

  it('ships nothing by default; with monitoring.prometheusRule and monitoring.dashboard, the rules and the dashboard as they are here', async () => {
    expect((await renderChart(helm)).includes('PrometheusRule')).toBe(false);
    const docs = parseManifests(
      await renderChart(helm, {
        'monitoring.prometheusRule.enabled': true,
        'monitoring.prometheusRule.labels': { release: 'prom' },
        'monitoring.dashboard.enabled': true,
      }),
      'monitoring on',
    );
    const rule = find(docs, 'PrometheusRule', 'plinth');
    expect(rule.metadata.labels?.release).toBe('prom');
    expect((rule.spec as { groups: RuleGroup[] }).groups).toEqual(loadRules());
    const cm = find(docs, 'ConfigMap', 'plinth-dashboard');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse((cm.data as Record<string, string>)['plinth-dashboard.json']!)).toEqual(loadDashboard());
  }, 60_000);
});
