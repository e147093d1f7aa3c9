/**
 * The chart and the plain manifests are one thing: infra/kubernetes/base/plinth.yaml must be exactly the chart
 * rendered with its defaults. helm is built from the Go module proxy on first use (test/infra/helm.ts) and
 * cached outside the repo; without Go this fails with a message saying so, it never skips.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { BASE_FILE, ensureHelm, renderBase, renderChart } from './helm.js';
import { apiEnv } from '../../apps/api/src/config.js';
import { controllerEnv } from '../../apps/controller/src/config.js';
import { configSchema as nodeEnv } from '../../apps/node-agent/src/config.js';
import { container, effectiveEnv, env, envValue, find, parseManifests, podSpec, type Container, type Manifest, type PodSpec } from './manifests.js';

let helm = '';
beforeAll(async () => {
  helm = await ensureHelm();
}, 15 * 60_000);

const render = async (set: Record<string, unknown>): Promise<Manifest[]> => parseManifests(await renderChart(helm, set), JSON.stringify(set));

describe('the Helm chart', () => {
  it('renders with its defaults to exactly infra/kubernetes/base/plinth.yaml (regenerate: node --import tsx test/infra/render-base.ts)', async () => {
    const [want, have] = await Promise.all([renderBase(helm), readFile(BASE_FILE, 'utf8')]);
    expect(have === want, 'infra/kubernetes/base/plinth.yaml is out of step with infra/helm/plinth; run `node --import tsx test/infra/render-base.ts`').toBe(
      true,
    );
  }, 60_000);

  it('runs csi-snapshotter with exactly its RBAC by default, and drops both when sidecars.snapshotter.enabled is false', async () => {
    const docs = await render({});
    const spec = podSpec(find(docs, 'Deployment', 'plinth-controller'));
    const c = container(spec, 'csi-snapshotter');
    expect(c.args).toContain('--leader-election=true');
    expect(c.args).not.toContain('--feature-gates=CSIVolumeGroupSnapshot=true');
    expect(c.volumeMounts?.map((m) => m.name)).toEqual(['socket-dir']);
    expect(find(docs, 'ClusterRoleBinding', 'plinth-snapshotter').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'plinth-controller', namespace: 'kube-system' },
    ]);
    const rules = find(docs, 'ClusterRole', 'plinth-snapshotter').rules!;
    expect(rules.flatMap((r) => r.resources).sort()).toEqual(['events', 'volumesnapshotclasses', 'volumesnapshotcontents', 'volumesnapshotcontents/status']);

    const off = await render({ 'sidecars.snapshotter.enabled': false });
    expect(podSpec(find(off, 'Deployment', 'plinth-controller')).containers.map((x) => x.name)).not.toContain('csi-snapshotter');
    expect(off.filter((d) => d.metadata.name === 'plinth-snapshotter')).toEqual([]);
  }, 60_000);

  it('adds the group snapshot feature gate and its RBAC with sidecars.snapshotter.groupSnapshots', async () => {
    const docs = await render({ 'sidecars.snapshotter.groupSnapshots': true });
    expect(container(podSpec(find(docs, 'Deployment', 'plinth-controller')), 'csi-snapshotter').args).toContain('--feature-gates=CSIVolumeGroupSnapshot=true');
    const rules = find(docs, 'ClusterRole', 'plinth-snapshotter').rules!.filter((r) => r.apiGroups?.includes('groupsnapshot.storage.k8s.io'));
    expect(rules.flatMap((r) => r.resources).sort()).toEqual([
      'volumegroupsnapshotclasses',
      'volumegroupsnapshotcontents',
      'volumegroupsnapshotcontents/status',
    ]);
  }, 60_000);

  it('serves changed-block tracking with sidecars.snapshotMetadata: the sidecar over TLS, its Service, RBAC and SnapshotMetadataService', async () => {
    const off = await render({});
    expect(podSpec(find(off, 'Deployment', 'plinth-controller')).containers.map((x) => x.name)).not.toContain('csi-snapshot-metadata');
    expect(off.filter((d) => d.kind === 'SnapshotMetadataService' || d.metadata.name === 'plinth-snapshot-metadata')).toEqual([]);
    await expect(renderChart(helm, { 'sidecars.snapshotMetadata.enabled': true })).rejects.toThrow(/sidecars.snapshotMetadata.caCert/);

    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
    const docs = await render({ 'sidecars.snapshotMetadata.enabled': true, 'sidecars.snapshotMetadata.caCert': ca });
    const spec = podSpec(find(docs, 'Deployment', 'plinth-controller'));
    const c = container(spec, 'csi-snapshot-metadata');
    expect(c.image).toBe('registry.k8s.io/sig-storage/csi-snapshot-metadata:v0.2.0');
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--csi-address=$(ADDRESS)',
        '--port=50051',
        '--tls-cert=/tmp/certificates/tls.crt',
        '--tls-key=/tmp/certificates/tls.key',
        '--audience=ebs.csi.plinth.dev',
      ]),
    );
    const tlsMount = c.volumeMounts?.find((m) => m.name === 'snapshot-metadata-tls');
    expect(tlsMount?.mountPath).toBe('/tmp/certificates');
    expect(spec.volumes?.find((v) => v.name === 'snapshot-metadata-tls')).toEqual({
      name: 'snapshot-metadata-tls',
      secret: { secretName: 'plinth-snapshot-metadata-tls' },
    });
    const svc = find(docs, 'Service', 'plinth-snapshot-metadata').spec as { ports: { port: number; targetPort: string }[] };
    expect(svc.ports).toEqual([expect.objectContaining({ port: 6443, targetPort: 'snapshot-meta' })]);
    expect(find(docs, 'SnapshotMetadataService', 'ebs.csi.plinth.dev')).toMatchObject({
      apiVersion: 'cbt.storage.k8s.io/v1alpha1',
      spec: { address: 'plinth-snapshot-metadata.kube-system:6443', caCert: ca, audience: 'ebs.csi.plinth.dev' },
    });
    expect(find(docs, 'ClusterRoleBinding', 'plinth-snapshot-metadata').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'plinth-controller', namespace: 'kube-system' },
    ]);
    const rules = find(docs, 'ClusterRole', 'plinth-snapshot-metadata').rules!;
    expect(rules.flatMap((r) => r.resources).sort()).toEqual([
      'snapshotmetadataservices',
      'subjectaccessreviews',
      'tokenreviews',
      'volumesnapshotcontents',
      'volumesnapshots',
    ]);
  }, 60_000);

  it('gates VolumeAttributesClass on the provisioner and the resizer, with read access to the classes, by volumeAttributesClass', async () => {
    const readsVac = (docs: Manifest[], role: string) => find(docs, 'ClusterRole', role).rules!.some((r) => r.resources?.includes('volumeattributesclasses'));
    const on = await render({});
    const spec = podSpec(find(on, 'Deployment', 'plinth-controller'));
    expect(container(spec, 'csi-provisioner').args).toContain('--feature-gates=Topology=true,VolumeAttributesClass=true');
    expect(container(spec, 'csi-resizer').args).toContain('--feature-gates=VolumeAttributesClass=true');
    expect([readsVac(on, 'plinth-provisioner'), readsVac(on, 'plinth-resizer')]).toEqual([true, true]);
    const off = await render({ volumeAttributesClass: false });
    const offSpec = podSpec(find(off, 'Deployment', 'plinth-controller'));
    expect(container(offSpec, 'csi-provisioner').args).toContain('--feature-gates=Topology=true');
    expect(container(offSpec, 'csi-resizer').args?.some((a) => a.startsWith('--feature-gates'))).toBe(false);
    expect([readsVac(off, 'plinth-provisioner'), readsVac(off, 'plinth-resizer')]).toEqual([false, false]);
  }, 60_000);

  it('turns capacity tracking on in the CSIDriver, the provisioner and the namespaced RBAC together (default), and off together', async () => {
    const docs = await render({});
    expect(find(docs, 'CSIDriver', 'ebs.csi.plinth.dev').spec).toMatchObject({ storageCapacity: true });
    const p = container(podSpec(find(docs, 'Deployment', 'plinth-controller')), 'csi-provisioner');
    expect(p.args).toEqual(expect.arrayContaining(['--enable-capacity', '--capacity-ownerref-level=2']));
    expect(env(p, 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env(p, 'NAMESPACE')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    expect(find(docs, 'Role', 'plinth-controller').rules!.flatMap((r) => r.resources)).toContain('csistoragecapacities');
    expect(docs.filter((d) => d.kind === 'ClusterRole').flatMap((d) => d.rules!.flatMap((r) => r.resources))).not.toContain('csistoragecapacities');

    const off = await render({ 'csiDriver.storageCapacity': false });
    expect(find(off, 'CSIDriver', 'ebs.csi.plinth.dev').spec).toMatchObject({ storageCapacity: false });
    expect(container(podSpec(find(off, 'Deployment', 'plinth-controller')), 'csi-provisioner').args).not.toContain('--enable-capacity');
    expect(find(off, 'Role', 'plinth-controller').rules!.flatMap((r) => r.resources)).not.toContain('csistoragecapacities');
  }, 60_000);

  it('renders StorageClasses with the extra volume tags as tagSpecification parameters, and VolumeSnapshotClasses', async () => {
    const docs = await render({
      storageClasses: [
        {
          name: 'fast',
          parameters: { type: 'gp3', encrypted: 'true' },
          allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['eu-west-1a'] }] }],
        },
      ],
      volumeSnapshotClasses: [{ name: 'snaps' }],
      extraVolumeTags: { team: 'storage', env: 'prod' },
    });
    expect(find(docs, 'StorageClass', 'fast')).toMatchObject({
      provisioner: 'ebs.csi.plinth.dev',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
      reclaimPolicy: 'Delete',
      parameters: { type: 'gp3', encrypted: 'true', tagSpecification_1: 'env=prod', tagSpecification_2: 'team=storage' },
    });
    expect(find(docs, 'VolumeSnapshotClass', 'snaps')).toMatchObject({ driver: 'ebs.csi.plinth.dev', deletionPolicy: 'Delete' });
  }, 60_000);

  it('uses an external Redis: no StatefulSet, and the Secret it writes carries the URL every component reads', async () => {
    const docs = await render({ 'redis.bundled': false, 'redis.url': 'rediss://:pw@redis.example:6380/0' });
    expect(docs.filter((d) => d.metadata.name.startsWith('plinth-redis') && d.kind !== 'Secret')).toEqual([]);
    expect(find(docs, 'Secret', 'plinth-redis').stringData).toEqual({ url: 'rediss://:pw@redis.example:6380/0' });
  }, 60_000);

  it('writes the bundled Redis’s Secret from a password, URL-encoded into the URL', async () => {
    const docs = await render({ 'redis.password': 'p@ss/word' });
    expect(find(docs, 'Secret', 'plinth-redis').stringData).toEqual({
      url: 'redis://:p%40ss%2Fword@plinth-redis.kube-system.svc:6379/0',
      password: 'p@ss/word',
    });
  }, 60_000);

  describe('Redis Sentinel and a managed Redis with TLS and an ACL user', () => {
    const components = (docs: Manifest[]): [Container, { safeParse: (v: unknown) => { success: boolean; error?: unknown } }][] => {
      const ctl = podSpec(find(docs, 'Deployment', 'plinth-controller'));
      return [
        [container(ctl, 'controller'), controllerEnv],
        [container(ctl, 'api'), apiEnv],
        [container(podSpec(find(docs, 'DaemonSet', 'plinth-node')), 'node-agent'), nodeEnv],
      ];
    };

    it('hands every component the sentinels, the name and both passwords from the Secret, never REDIS_URL, and each app accepts them', async () => {
      const docs = await render({
        'redis.bundled': false,
        'redis.sentinel.enabled': true,
        'redis.sentinel.hosts': ['redis-sentinel-0.redis:26379', 'redis-sentinel-1.redis:26379', 'redis-sentinel-2.redis:26379'],
        'redis.sentinel.masterName': 'plinth',
        'redis.sentinel.passwordKey': 'sentinel-password',
        'redis.auth.passwordKey': 'password',
      });
      expect(docs.filter((d) => d.kind === 'StatefulSet')).toEqual([]);
      for (const [c, schema] of components(docs)) {
        expect(env(c, 'REDIS_URL'), c.name).toBeUndefined();
        expect(env(c, 'REDIS_SENTINELS')?.value, c.name).toBe('redis-sentinel-0.redis:26379,redis-sentinel-1.redis:26379,redis-sentinel-2.redis:26379');
        expect(env(c, 'REDIS_SENTINEL_NAME')?.value, c.name).toBe('plinth');
        expect(env(c, 'REDIS_SENTINEL_PASSWORD')?.valueFrom?.secretKeyRef, c.name).toEqual({ name: 'plinth-redis', key: 'sentinel-password' });
        expect(env(c, 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef, c.name).toEqual({ name: 'plinth-redis', key: 'password' });
        const parsed = schema.safeParse(effectiveEnv(c));
        expect(parsed.success, `${c.name}: ${JSON.stringify(parsed.error)}`).toBe(true);
      }
    }, 60_000);

    it('mounts the CA bundle and names the ACL user for a rediss:// URL, and each app accepts it', async () => {
      const docs = await render({
        'redis.bundled': false,
        'redis.auth.username': 'plinth',
        'redis.auth.passwordKey': 'password',
        'redis.tls.caSecret': 'redis-ca',
        'redis.tls.servername': 'redis.example.com',
      });
      for (const [c, schema] of components(docs)) {
        expect(env(c, 'REDIS_URL')?.valueFrom?.secretKeyRef, c.name).toEqual({ name: 'plinth-redis', key: 'url' });
        expect(env(c, 'REDIS_USERNAME')?.value, c.name).toBe('plinth');
        expect(env(c, 'REDIS_CA_FILE')?.value, c.name).toBe('/etc/plinth/redis-ca/ca.crt');
        expect(env(c, 'REDIS_TLS_SERVERNAME')?.value, c.name).toBe('redis.example.com');
        expect(env(c, 'REDIS_TLS'), `${c.name}: TLS comes from the rediss:// URL`).toBeUndefined();
        expect(
          c.volumeMounts?.find((m) => m.name === 'redis-ca'),
          c.name,
        ).toMatchObject({ mountPath: '/etc/plinth/redis-ca', readOnly: true });
        const parsed = schema.safeParse({ ...effectiveEnv(c), REDIS_URL: 'rediss://redis.example.com:6380/0' });
        expect(parsed.success, `${c.name}: ${JSON.stringify(parsed.error)}`).toBe(true);
      }
      for (const [kind, name] of [
        ['Deployment', 'plinth-controller'],
        ['DaemonSet', 'plinth-node'],
      ] as const) {
        expect(podSpec(find(docs, kind, name)).volumes?.find((v) => v.name === 'redis-ca')).toEqual({
          name: 'redis-ca',
          secret: { secretName: 'redis-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
        });
      }
    }, 60_000);

    it('refuses Sentinel with the bundled Redis, and Sentinel without hosts', async () => {
      await expect(render({ 'redis.sentinel.enabled': true, 'redis.sentinel.hosts': ['s:26379'] })).rejects.toThrow(
        /redis.sentinel.enabled needs redis.bundled=false/,
      );
      await expect(render({ 'redis.bundled': false, 'redis.sentinel.enabled': true })).rejects.toThrow(/redis.sentinel.hosts is required/);
    }, 60_000);
  });

  it('probes the controller for liveness through Probe (/healthz) and for readiness on /readyz (Redis and EC2), only while the metrics server is on', async () => {
    const on = container(podSpec(find(await render({}), 'Deployment', 'plinth-controller')), 'controller') as Container & {
      livenessProbe?: unknown;
      readinessProbe?: unknown;
    };
    expect(on.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'healthz' } });
    expect(on.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'metrics' } });
    const off = container(
      podSpec(find(await render({ 'controller.metrics.enabled': false }), 'Deployment', 'plinth-controller')),
      'controller',
    ) as Container & { readinessProbe?: unknown };
    expect(off.readinessProbe).toBeUndefined();
  }, 60_000);

  it('gives the node agent a preStop hook that waits for its VolumeAttachments, bounded under the grace period, with the RBAC to watch them', async () => {
    const docs = await render({ 'node.terminationGracePeriodSeconds': 60 });
    const ds = podSpec(find(docs, 'DaemonSet', 'plinth-node')) as PodSpec & { terminationGracePeriodSeconds?: number };
    const agent = container(ds, 'node-agent') as Container & { lifecycle?: { preStop?: { exec?: { command?: string[] } } } };
    const command = agent.lifecycle?.preStop?.exec?.command;
    expect(command).toEqual(['node', '/app/dist/node-agent.mjs', 'pre-stop']);
    // The bundle the image runs: WORKDIR /app and dist/node-agent.mjs in infra/docker/node-agent.Dockerfile.
    const dockerfile = await readFile(new URL('../../infra/docker/node-agent.Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile).toMatch(/WORKDIR \/app\n[\s\S]*COPY --from=build \/out\/node-agent\/dist\/node-agent\.mjs dist\/node-agent\.mjs/);
    expect(ds.terminationGracePeriodSeconds).toBe(60);
    expect(env(agent, 'PRE_STOP_TIMEOUT_MS')?.value).toBe('55000');
    expect(env(agent, 'KUBE_NODE_NAME')?.valueFrom?.fieldRef).toEqual({ fieldPath: 'spec.nodeName' });
    const rules = find(docs, 'ClusterRole', 'plinth-node').rules!;
    expect(rules).toContainEqual({ apiGroups: ['storage.k8s.io'], resources: ['volumeattachments'], verbs: ['get', 'list', 'watch'] });
    // get: metadata and drain state; patch: the <driver>/agent-not-ready startup taint, removed once CSINode lists the driver.
    expect(rules).toContainEqual({ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] });
    expect(rules).toContainEqual({ apiGroups: ['storage.k8s.io'], resources: ['csinodes'], verbs: ['get'] });
    expect(find(docs, 'ClusterRoleBinding', 'plinth-node').subjects).toEqual([{ kind: 'ServiceAccount', name: 'plinth-node', namespace: 'kube-system' }]);
  }, 60_000);

  it('runs the node agent alone with node.builtinRegistration: it registers with the kubelet and serves /healthz on :9808, and the agent accepts that env', async () => {
    const on = podSpec(find(await render({ 'node.builtinRegistration': true }), 'DaemonSet', 'plinth-node'));
    expect(on.containers.map((c) => c.name)).toEqual(['node-agent']);
    const agent = container(on, 'node-agent') as Container & {
      livenessProbe?: { httpGet?: { port?: string } };
      ports?: { name: string; containerPort: number }[];
    };
    expect(env(agent, 'REGISTRATION_DIR')?.value).toBe('/registration');
    expect(env(agent, 'DRIVER_REG_SOCK_PATH')?.value).toBe('/var/lib/kubelet/plugins/ebs.csi.plinth.dev/csi.sock');
    expect(env(agent, 'HEALTHZ_ADDRESS')?.value).toBe('0.0.0.0:9808');
    expect(agent.volumeMounts).toContainEqual({ name: 'registration-dir', mountPath: '/registration' });
    expect(agent.ports).toContainEqual(expect.objectContaining({ name: 'healthz', containerPort: 9808 }));
    expect(agent.livenessProbe?.httpGet?.port).toBe('healthz');
    expect(() => nodeEnv.parse(effectiveEnv(agent))).not.toThrow();
    // Default: node-driver-registrar and livenessprobe beside the agent, as aws-ebs-csi-driver runs them.
    const off = podSpec(find(await render({}), 'DaemonSet', 'plinth-node'));
    expect(off.containers.map((c) => c.name)).toEqual(['node-agent', 'node-driver-registrar', 'liveness-probe']);
    expect(env(container(off, 'node-agent'), 'REGISTRATION_DIR')).toBeUndefined();
  }, 60_000);

  it('renders ServiceMonitors selecting the metrics Services when serviceMonitor.enabled', async () => {
    const docs = await render({ 'serviceMonitor.enabled': true, 'serviceMonitor.labels': { release: 'prom' } });
    for (const component of ['controller', 'node']) {
      const sm = find(docs, 'ServiceMonitor', `plinth-${component}`);
      expect(sm.metadata.labels?.release).toBe('prom');
      const svc = find(docs, 'Service', `plinth-${component}-metrics`);
      expect((sm.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels).toEqual(
        (svc.spec as { selector: Record<string, string> }).selector,
      );
      expect((sm.spec as { endpoints: { port: string }[] }).endpoints[0]?.port).toBe('metrics');
    }
  }, 60_000);

  it('takes the knobs aws-ebs-csi-driver users look for: replicas, image, sidecar args, cluster id, tolerations, resources', async () => {
    const docs = await render({
      'controller.replicas': 3,
      'image.registry': 'registry.example/plinth',
      'image.tag': '9.9.9',
      'sidecars.provisioner.additionalArgs': ['--v=5'],
      clusterId: 'prod-eu',
      'node.tolerateAllTaints': false,
      'node.tolerations': [{ key: 'storage', operator: 'Exists', effect: 'NoSchedule' }],
      'node.resources': { requests: { cpu: '1' } },
      'node.volumeAttachLimit': 25,
    });
    const dep = find(docs, 'Deployment', 'plinth-controller');
    const spec = podSpec(dep);
    expect((dep.spec as { replicas: number }).replicas).toBe(3);
    expect(container(spec, 'controller').image).toBe('registry.example/plinth/plinth-controller:9.9.9');
    expect(container(spec, 'csi-provisioner').args).toContain('--v=5');
    expect(env(container(spec, 'controller'), 'PLINTH_CLUSTER_ID')?.value).toBe('prod-eu');
    expect(env(container(spec, 'api'), 'PLINTH_CLUSTER_ID')?.value).toBe('prod-eu');
    const ds = podSpec(find(docs, 'DaemonSet', 'plinth-node'));
    expect(ds.tolerations).toEqual([{ key: 'storage', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(env(container(ds, 'node-agent'), 'MAX_VOLUMES_PER_NODE')?.value).toBe('25');
    // Helm merges maps: the override wins where it speaks, the defaults stay elsewhere.
    expect((container(ds, 'node-agent') as { resources?: unknown }).resources).toEqual({ requests: { cpu: '1', memory: '64Mi' }, limits: { memory: '256Mi' } });
  }, 60_000);

  it('points the controller (only) at a custom EBS direct endpoint with ebsEndpoint', async () => {
    const docs = await render({ ebsEndpoint: 'http://ebs.local:4566' });
    expect(envValue(container(podSpec(find(docs, 'Deployment', 'plinth-controller')), 'controller'), 'EBS_ENDPOINT')).toBe('http://ebs.local:4566');
    expect(env(container(podSpec(find(docs, 'Deployment', 'plinth-controller')), 'api'), 'EBS_ENDPOINT')).toBeUndefined();
    expect(env(container(podSpec(find(await render({}), 'Deployment', 'plinth-controller')), 'controller'), 'EBS_ENDPOINT')).toBeUndefined();
  });

  it('passes helm lint', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { CHART_DIR } = await import('./helm.js');
    const { stdout } = await promisify(execFile)(helm, ['lint', CHART_DIR, '--strict', '--namespace', 'kube-system'], { timeout: 60_000 });
    expect(stdout).toContain('0 chart(s) failed');
  }, 60_000);
});
