/**
 * infra/versions.json is the one pin list: the Kubernetes e2e builds those versions (test/k8s/build.ts) and the
 * chart's sidecar image tags must name the same releases, so what the e2e tests is what a user installs.
 */
import { describe, expect, it } from 'vitest';
import { loadYaml } from '../infra/manifests.js';
import { BINARIES, K8S_VERSION, SNAPSHOT_CLIENT } from './build.js';
import { PINS } from './versions.js';

const values = loadYaml<Record<string, unknown>>('infra/helm/plinth/values.yaml');
const at = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], values);
const IMAGE_NAME: Record<string, string> = {
  'csi-provisioner': 'csi-provisioner',
  'csi-attacher': 'csi-attacher',
  'csi-resizer': 'csi-resizer',
  'csi-snapshotter': 'csi-snapshotter',
  'csi-snapshot-metadata': 'csi-snapshot-metadata',
  'csi-node-driver-registrar': 'csi-node-driver-registrar',
  livenessprobe: 'livenessprobe',
};

describe('infra/versions.json (the pin list)', () => {
  it.each(Object.entries(PINS.sidecars).filter(([, p]) => p.chart))('the chart ships %s at the pinned version', (name, pin) => {
    const image = at(pin.chart ?? '') as { repository?: string; tag?: string } | undefined;
    expect(image, `values.yaml has no ${pin.chart}`).toBeDefined();
    expect(image?.tag, `values.yaml ${pin.chart}.tag vs infra/versions.json sidecars.${name}.version`).toBe(pin.version);
    expect(image?.repository).toBe(`registry.k8s.io/sig-storage/${IMAGE_NAME[name]}`);
  });

  it('every sidecar image in the chart is pinned', () => {
    const sidecars = values.sidecars as Record<string, { image?: unknown }>;
    const pinned = new Set(Object.values(PINS.sidecars).map((p) => p.chart));
    const inChart = Object.keys(sidecars)
      .filter((k) => sidecars[k]?.image)
      .map((k) => `sidecars.${k}.image`);
    expect(inChart.filter((p) => !pinned.has(p))).toEqual([]);
  });

  it('snapshot-controller and the snapshot CRDs come from the same external-snapshotter release as csi-snapshotter', () => {
    expect(PINS.sidecars['snapshot-controller'].version).toBe(PINS.sidecars['csi-snapshotter'].version);
    expect(SNAPSHOT_CLIENT.version).toBe(PINS.sidecars['csi-snapshotter'].version);
  });

  it('the e2e builds every pinned binary at its pinned version (or says why not), and Kubernetes ≥ 1.36', () => {
    for (const [name, pin] of Object.entries(PINS.sidecars)) {
      const b = BINARIES.find((x) => x.name === name);
      if (pin.notBuilt !== undefined) {
        // Not built, and said why: the chart's alternative runs in its place.
        expect(b, `${name} is marked notBuilt but build.ts builds it`).toBeUndefined();
        expect(pin.notBuilt.length).toBeGreaterThan(20);
        continue;
      }
      expect(b, `build.ts builds no ${name}`).toBeDefined();
      expect(b?.version).toBe(pin.version);
      expect(b?.ldflags).toContain(`-X main.version=${pin.version}`);
    }
    for (const n of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet'])
      expect(BINARIES.find((b) => b.name === n)?.version).toBe(PINS.kubernetes);
    const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(K8S_VERSION) ?? [];
    expect(Number(major) * 100 + Number(minor)).toBeGreaterThanOrEqual(136);
  });
});

describe('node.builtinRegistration (what the e2e runs in place of node-driver-registrar and livenessprobe)', () => {
  it('is off by default, so the chart runs both sidecars as aws-ebs-csi-driver does', () => {
    expect(at('node.builtinRegistration')).toBe(false);
  });
});
