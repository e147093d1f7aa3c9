/**
 * The aws-ebs-csi-driver values the chart takes under the same names (issue 15), each asserted on the rendered
 * object, and values.schema.json: a misspelt key or a wrong type fails `helm template` instead of being ignored.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHART_DIR, ensureHelm, renderChart } from './helm.js';
import { container, env, find, parseManifests, podSpec, type Container, type Manifest } from './manifests.js';

const exec = promisify(execFile);

let helm = '';
beforeAll(async () => {
  helm = await ensureHelm();
}, 15 * 60_000);

const render = async (set: Record<string, unknown>): Promise<Manifest[]> => parseManifests(await renderChart(helm, set), JSON.stringify(set));

/** The stderr of a render the chart must refuse. */
async function refused(set: Record<string, unknown>): Promise<string> {
  try {
    await renderChart(helm, set);
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
  throw new Error(`helm template accepted ${JSON.stringify(set)}`);
}

interface LoosePod {
  securityContext?: Record<string, unknown>;
  initContainers?: { name: string; image: string }[];
  dnsConfig?: Record<string, unknown>;
  tolerations?: unknown[];
  volumes?: { name: string }[];
  containers: (Container & { envFrom?: unknown[]; securityContext?: Record<string, unknown> })[];
}
const loosePod = (m: Manifest): LoosePod => podSpec(m);
const podMeta = (m: Manifest) =>
  (m.spec as { template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> } } }).template.metadata;

describe('aws-ebs-csi-driver values the chart takes under the same names', () => {
  it('controller: podLabels, podAnnotations, deploymentAnnotations, securityContext, containerSecurityContext, volumes, volumeMounts, initContainers, envFrom, dnsConfig', async () => {
    const docs = await render({
      'controller.podLabels': { team: 'storage' },
      'controller.podAnnotations': { 'example.com/scrape': 'yes' },
      'controller.deploymentAnnotations': { 'example.com/owner': 'sre' },
      'controller.securityContext': { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
      'controller.containerSecurityContext': { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } },
      'controller.volumes': [{ name: 'ca', configMap: { name: 'corp-ca' } }],
      'controller.volumeMounts': [{ name: 'ca', mountPath: '/etc/ssl/corp', readOnly: true }],
      'controller.initContainers': [{ name: 'wait', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 1'] }],
      'controller.envFrom': [{ configMapRef: { name: 'plinth-extra' } }],
      'controller.dnsConfig': { options: [{ name: 'ndots', value: '2' }] },
    });
    const dep = find(docs, 'Deployment', 'plinth-controller');
    const meta = podMeta(dep);
    expect(meta.labels).toMatchObject({ team: 'storage', 'app.kubernetes.io/component': 'controller' });
    expect(meta.annotations).toEqual({ 'example.com/scrape': 'yes' });
    expect(dep.metadata.annotations).toEqual({ 'example.com/owner': 'sre' });
    // The selector keeps its own labels: podLabels add, never replace.
    expect((dep.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels).not.toHaveProperty('team');
    const spec = loosePod(dep);
    // Helm merges maps: the default seccompProfile stays unless set to null.
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    const c = spec.containers.find((x) => x.name === 'controller')!;
    expect(c.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.volumeMounts).toContainEqual({ name: 'ca', mountPath: '/etc/ssl/corp', readOnly: true });
    expect(c.volumeMounts?.map((m) => m.name)).toEqual(['socket-dir', 'ca']);
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'plinth-extra' } }]);
    expect(spec.volumes?.map((v) => v.name)).toEqual(['socket-dir', 'api-tokens', 'ca']);
    expect(spec.initContainers).toEqual([{ name: 'wait', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 1'] }]);
    expect(spec.dnsConfig).toEqual({ options: [{ name: 'ndots', value: '2' }] });
  }, 60_000);

  it('controller defaults: one non-root uid for the pod, a locked-down controller container, no init containers', async () => {
    const spec = loosePod(find(await render({}), 'Deployment', 'plinth-controller'));
    expect(spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.containers.find((x) => x.name === 'controller')!.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(spec.initContainers).toBeUndefined();
    expect(spec.dnsConfig).toBeUndefined();
  }, 60_000);

  it('controller.replicaCount wins over controller.replicas, and one replica drops the PodDisruptionBudget', async () => {
    const three = await render({ 'controller.replicaCount': 3 });
    expect((find(three, 'Deployment', 'plinth-controller').spec as { replicas: number }).replicas).toBe(3);
    expect(find(three, 'PodDisruptionBudget', 'plinth-controller').spec).toMatchObject({ maxUnavailable: 1 });
    const one = await render({ 'controller.replicaCount': 1, 'controller.replicas': 4 });
    expect((find(one, 'Deployment', 'plinth-controller').spec as { replicas: number }).replicas).toBe(1);
    expect(one.filter((d) => d.kind === 'PodDisruptionBudget')).toEqual([]);
    expect((find(await render({}), 'Deployment', 'plinth-controller').spec as { replicas: number }).replicas).toBe(2);
  }, 60_000);

  it('node: podLabels, daemonSetAnnotations, securityContext, containerSecurityContext, volumes, volumeMounts, initContainers, envFrom; tolerateAllTaints by default', async () => {
    const docs = await render({
      'node.podLabels': { team: 'storage' },
      'node.podAnnotations': { 'example.com/a': 'b' },
      'node.daemonSetAnnotations': { 'example.com/owner': 'sre' },
      'node.securityContext': { runAsUser: 0, runAsGroup: 0, fsGroup: 0, runAsNonRoot: false },
      'node.containerSecurityContext': { privileged: true, readOnlyRootFilesystem: true },
      'node.volumes': [{ name: 'extra', hostPath: { path: '/opt/extra', type: 'Directory' } }],
      'node.volumeMounts': [{ name: 'extra', mountPath: '/opt/extra' }],
      'node.initContainers': [{ name: 'wait', image: 'busybox:1.36' }],
      'node.envFrom': [{ secretRef: { name: 'node-extra' } }],
    });
    const ds = find(docs, 'DaemonSet', 'plinth-node');
    expect(podMeta(ds).labels).toMatchObject({ team: 'storage', 'app.kubernetes.io/component': 'node' });
    expect(podMeta(ds).annotations).toEqual({ 'example.com/a': 'b' });
    expect(ds.metadata.annotations).toEqual({ 'example.com/owner': 'sre' });
    const spec = loosePod(ds);
    expect(spec.securityContext).toEqual({ runAsUser: 0, runAsGroup: 0, fsGroup: 0, runAsNonRoot: false });
    const agent = spec.containers.find((x) => x.name === 'node-agent')!;
    expect(agent.securityContext).toEqual({ privileged: true, readOnlyRootFilesystem: true });
    expect(agent.volumeMounts?.at(-1)).toEqual({ name: 'extra', mountPath: '/opt/extra' });
    expect(agent.envFrom).toEqual([{ secretRef: { name: 'node-extra' } }]);
    expect(spec.volumes?.at(-1)).toEqual({ name: 'extra', hostPath: { path: '/opt/extra', type: 'Directory' } });
    expect(spec.initContainers).toEqual([{ name: 'wait', image: 'busybox:1.36' }]);
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);

    const defaults = loosePod(find(await render({}), 'DaemonSet', 'plinth-node'));
    expect(defaults.securityContext).toBeUndefined();
    expect(defaults.containers.find((x) => x.name === 'node-agent')!.securityContext).toEqual({ privileged: true });
  }, 60_000);

  it('proxy.http_proxy and proxy.no_proxy become HTTP_PROXY, HTTPS_PROXY and NO_PROXY of every container that leaves the pod; none by default', async () => {
    const docs = await render({ proxy: { http_proxy: 'http://proxy.corp:3128', no_proxy: '10.0.0.0/8,.svc,.cluster.local' } });
    const ctl = podSpec(find(docs, 'Deployment', 'plinth-controller'));
    const agent = container(podSpec(find(docs, 'DaemonSet', 'plinth-node')), 'node-agent');
    for (const c of [...['controller', 'api', 'csi-provisioner', 'csi-attacher', 'csi-resizer', 'csi-snapshotter'].map((n) => container(ctl, n)), agent]) {
      expect([env(c, 'HTTP_PROXY')?.value, env(c, 'HTTPS_PROXY')?.value, env(c, 'NO_PROXY')?.value], c.name).toEqual([
        'http://proxy.corp:3128',
        'http://proxy.corp:3128',
        '10.0.0.0/8,.svc,.cluster.local',
      ]);
    }
    const plain = await render({});
    const all = [...podSpec(find(plain, 'Deployment', 'plinth-controller')).containers, ...podSpec(find(plain, 'DaemonSet', 'plinth-node')).containers];
    expect(all.flatMap((c) => (c.env ?? []).map((e) => e.name)).filter((n) => n.endsWith('_PROXY'))).toEqual([]);
  }, 60_000);

  it('controller.extraCreateMetadata (default true) drives --extra-create-metadata of the provisioner and the snapshotter', async () => {
    const on = podSpec(find(await render({}), 'Deployment', 'plinth-controller'));
    expect(container(on, 'csi-provisioner').args).toContain('--extra-create-metadata');
    expect(container(on, 'csi-snapshotter').args).toContain('--extra-create-metadata');
    const off = podSpec(find(await render({ 'controller.extraCreateMetadata': false }), 'Deployment', 'plinth-controller'));
    expect(container(off, 'csi-provisioner').args).not.toContain('--extra-create-metadata');
    expect(container(off, 'csi-snapshotter').args).not.toContain('--extra-create-metadata');
  }, 60_000);

  it('defaultStorageClass.enabled renders a default StorageClass; storageClasses take labels and mountOptions', async () => {
    expect((await render({})).filter((d) => d.kind === 'StorageClass')).toEqual([]);
    const docs = await render({
      'defaultStorageClass.enabled': true,
      storageClasses: [
        { name: 'fast', labels: { tier: 'fast' }, mountOptions: ['noatime'], reclaimPolicy: 'Retain', parameters: { type: 'io2', iops: '5000' } },
      ],
    });
    expect(find(docs, 'StorageClass', 'plinth-default-sc')).toMatchObject({
      metadata: { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'ebs.csi.plinth.dev',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
      reclaimPolicy: 'Delete',
    });
    const fast = find(docs, 'StorageClass', 'fast');
    expect(fast.metadata.labels).toMatchObject({ tier: 'fast', 'app.kubernetes.io/name': 'plinth' });
    expect(fast.metadata.annotations).toBeUndefined();
    expect(fast).toMatchObject({ mountOptions: ['noatime'], reclaimPolicy: 'Retain', parameters: { type: 'io2', iops: '5000' } });
    const vsc = find(
      await render({ volumeSnapshotClasses: [{ name: 'snaps', labels: { tier: 'backup' }, deletionPolicy: 'Retain' }] }),
      'VolumeSnapshotClass',
      'snaps',
    );
    expect(vsc).toMatchObject({ metadata: { labels: { tier: 'backup' } }, deletionPolicy: 'Retain' });
  }, 60_000);
});

describe('values.schema.json', () => {
  it('refuses a misspelt key, naming it', async () => {
    expect(await refused({ 'controller.podLabel': { team: 'storage' } })).toMatch(/podLabel/);
    expect(await refused({ 'node.tolerateAllTaint': false })).toMatch(/tolerateAllTaint/);
    expect(await refused({ defaultStorageClass: { enable: true } })).toMatch(/enable/);
    expect(await refused({ storageClasses: [{ name: 'x', parameter: { type: 'gp3' } }] })).toMatch(/parameter/);
    expect(await refused({ replicaCount: 2 })).toMatch(/replicaCount/);
  }, 60_000);

  it('refuses wrong types and values', async () => {
    expect(await refused({ 'controller.replicas': 'two' })).toMatch(/replicas/);
    expect(await refused({ 'controller.replicaCount': -1 })).toMatch(/replicaCount/);
    // StorageClass parameters are strings in Kubernetes; an unquoted number would fail at the API server later.
    expect(await refused({ storageClasses: [{ name: 'x', parameters: { iops: 3000 } }] })).toMatch(/iops/);
    expect(await refused({ storageClasses: [{ name: 'x', reclaimPolicy: 'Keep' }] })).toMatch(/reclaimPolicy/);
    expect(await refused({ logLevel: 'verbose' })).toMatch(/logLevel/);
    expect(await refused({ 'node.metadataSources': 'imds,ec2' })).toMatch(/metadataSources/);
    expect(await refused({ 'sidecars.provisioner.timeout': '60' })).toMatch(/timeout/);
  }, 60_000);

  it("controller.extraVolumeTags and controller.k8sTagClusterId become the controller's EXTRA_TAGS and K8S_TAG_CLUSTER_ID; none by default", async () => {
    const set = { 'controller.extraVolumeTags': { team: 'storage', 'cost-center': '42' }, 'controller.k8sTagClusterId': 'prod-1' };
    const c = container(podSpec(find(await render(set), 'Deployment', 'plinth-controller')), 'controller');
    expect([env(c, 'EXTRA_TAGS')?.value, env(c, 'K8S_TAG_CLUSTER_ID')?.value]).toEqual(['cost-center=42,team=storage', 'prod-1']);
    const plain = container(podSpec(find(await render({}), 'Deployment', 'plinth-controller')), 'controller');
    expect([env(plain, 'EXTRA_TAGS'), env(plain, 'K8S_TAG_CLUSTER_ID')]).toEqual([undefined, undefined]);
    expect(await refused({ 'controller.extraVolumeTags': { team: 'a,b' } })).toMatch(/extraVolumeTags/);
  }, 60_000);

  it("controller.enableNodeLocalVolumes becomes the controller's ENABLE_NODE_LOCAL_VOLUMES=true; unset by default; a boolean only", async () => {
    const on = container(podSpec(find(await render({ 'controller.enableNodeLocalVolumes': true }), 'Deployment', 'plinth-controller')), 'controller');
    expect(env(on, 'ENABLE_NODE_LOCAL_VOLUMES')?.value).toBe('true');
    const plain = container(podSpec(find(await render({}), 'Deployment', 'plinth-controller')), 'controller');
    expect(env(plain, 'ENABLE_NODE_LOCAL_VOLUMES')).toBeUndefined();
    expect(await refused({ 'controller.enableNodeLocalVolumes': 'yes' })).toMatch(/enableNodeLocalVolumes/);
  }, 60_000);

  it('is checked by helm lint --strict too, with the defaults passing', async () => {
    const { stdout } = await exec(helm, ['lint', CHART_DIR, '--strict', '--namespace', 'kube-system'], { timeout: 60_000 });
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    const bad = await exec(helm, ['lint', CHART_DIR, '--strict', '--set', 'controller.podLabel.team=x'], { timeout: 60_000 }).then(
      () => 'passed',
      (e: { stdout?: string }) => e.stdout ?? '',
    );
    expect(bad).toMatch(/podLabel/);
  }, 60_000);
});
