/**
 * Invariants of the plain manifests (infra/kubernetes/base, generated from the chart) a reviewer would check:
 * the CSIDriver, env names and values against each app's own config schema, socket paths, the node pod's
 * privileges and mounts, least-privilege RBAC per ServiceAccount, and the example classes.
 */
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiEnv } from '../../apps/api/src/config.js';
import { controllerEnv } from '../../apps/controller/src/config.js';
import { parseVolumeParams } from '../../apps/controller/src/params/volume-params.js';
import { configSchema as nodeEnv } from '../../apps/node-agent/src/config.js';
import {
  container,
  effectiveEnv,
  env,
  envValue,
  find,
  list,
  loadManifests,
  loadPolicy,
  loadYaml,
  readText,
  podSpec,
  type Container,
  type Manifest,
  type PodSpec,
} from './manifests.js';

const DRIVER = 'ebs.csi.plinth.dev';
const NS = 'kube-system';
const base = loadManifests('infra/kubernetes/base/plinth.yaml');
const controller = podSpec(find(base, 'Deployment', 'plinth-controller'));
const node = podSpec(find(base, 'DaemonSet', 'plinth-node'));
const CLUSTER_SCOPED = new Set(['CSIDriver', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'VolumeSnapshotClass', 'VolumeAttributesClass']);

const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));
const arg = (c: Container, flag: string): string | undefined =>
  c.args
    ?.find((a) => a === flag || a.startsWith(`${flag}=`))
    ?.split('=')
    .slice(1)
    .join('=');
const mountOf = (c: Container, volume: string) => c.volumeMounts?.find((m) => m.name === volume);
const volumeOf = (spec: PodSpec, name: string) => {
  const v = spec.volumes?.find((x) => x.name === name);
  if (!v) throw new Error(`no volume ${name}`);
  return v;
};
/** unix:///a/b.sock → /a/b.sock */
const socketPath = (endpoint: string): string => endpoint.replace(/^unix:\/\//, '');

describe('the base manifests', () => {
  it('parse, and every object is named and (when namespaced) in kube-system', () => {
    expect(base.length).toBeGreaterThan(20);
    for (const m of base) {
      expect(m.apiVersion, `${m.kind}/${m.metadata.name}`).toMatch(/\S/);
      expect(m.metadata.name).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
      if (CLUSTER_SCOPED.has(m.kind)) expect(m.metadata.namespace, `${m.kind}/${m.metadata.name}`).toBeUndefined();
      else expect(m.metadata.namespace, `${m.kind}/${m.metadata.name}`).toBe(NS);
    }
    const kinds = new Set(base.map((m) => m.kind));
    for (const k of [
      'CSIDriver',
      'Deployment',
      'DaemonSet',
      'StatefulSet',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'Service',
      'PodDisruptionBudget',
      'NetworkPolicy',
    ])
      expect(kinds, k).toContain(k);
    expect(readText('infra/kubernetes/base/kustomization.yaml')).toMatch(/resources:\s*\n\s*- plinth\.yaml/);
  });

  it('declare the CSIDriver: attach required, no pod info, fsGroupPolicy File, Persistent only, storage capacity (GET_CAPACITY)', () => {
    expect(find(base, 'CSIDriver', DRIVER).spec).toMatchObject({
      attachRequired: true,
      podInfoOnMount: false,
      fsGroupPolicy: 'File',
      volumeLifecycleModes: ['Persistent'],
      storageCapacity: true,
    });
    // The scheduler reads CSIStorageCapacity only if the provisioner publishes it.
    expect(arg(container(controller, 'csi-provisioner'), '--enable-capacity')).toBe('');
  });

  it('run the controller pod with the controller, the admin API and the CSI sidecars', () => {
    expect(controller.containers.map((c) => c.name).sort()).toEqual([
      'api',
      'controller',
      'csi-attacher',
      'csi-provisioner',
      'csi-resizer',
      'csi-snapshotter',
      'liveness-probe',
    ]);
    expect(node.containers.map((c) => c.name).sort()).toEqual(['liveness-probe', 'node-agent', 'node-driver-registrar']);
  });

  describe('environment, checked against each app’s own config schema', () => {
    const apps: [string, PodSpec, string, { shape: Record<string, unknown>; safeParse: (v: unknown) => { success: boolean; error?: unknown } }][] = [
      ['controller', controller, 'controller', controllerEnv],
      ['api', controller, 'api', apiEnv],
      ['node-agent', node, 'node-agent', nodeEnv],
    ];
    for (const [app, spec, name, schema] of apps) {
      it(`${app}: every variable is one the app reads, and the values pass its validation`, () => {
        const c = container(spec, name);
        const names = (c.env ?? []).map((e) => e.name);
        const known = Object.keys(schema.shape);
        expect(
          names.filter((n) => !known.includes(n)),
          `unknown variables in ${app}`,
        ).toEqual([]);
        expect(new Set(names).size, `duplicate variables in ${app}`).toBe(names.length);
        const parsed = schema.safeParse(effectiveEnv(c));
        expect(parsed.success, JSON.stringify(parsed.error)).toBe(true);
      });
    }

    it('REDIS_URL comes from the Secret for every component, never a literal', () => {
      for (const c of [container(controller, 'controller'), container(controller, 'api'), container(node, 'node-agent')]) {
        expect(env(c, 'REDIS_URL')?.valueFrom?.secretKeyRef, c.name).toEqual({ name: 'plinth-redis', key: 'url' });
        expect(envValue(c, 'AWS_REGION'), c.name).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
        expect(envValue(c, 'PLINTH_DRIVER_NAME'), c.name).toBe(DRIVER);
      }
    });

    it('the controller and the API share PLINTH_CLUSTER_ID, which the IAM policy’s tag conditions name', () => {
      const id = envValue(container(controller, 'controller'), 'PLINTH_CLUSTER_ID');
      expect(envValue(container(controller, 'api'), 'PLINTH_CLUSTER_ID')).toBe(id);
      const values = new Set(
        loadPolicy()
          .Statement.flatMap((s) => Object.values(s.Condition ?? {}))
          .flatMap((c) => Object.entries(c))
          .filter(([k]) => k.endsWith('/plinth.dev/cluster-id'))
          .flatMap(([, v]) => list(v)),
      );
      expect([...values]).toEqual([id]);
      expect(loadYaml<{ clusterId: string }>('infra/helm/plinth/values.yaml').clusterId).toBe(id);
    });

    it('the node agent knows its node from the downward API and where to look for metadata', () => {
      const c = container(node, 'node-agent');
      expect(env(c, 'KUBE_NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
      expect(envValue(c, 'METADATA_SOURCES').split(',')).toContain('kubernetes');
    });

    it('the API reads its tokens from a mounted Secret and listens on its container port', () => {
      const c = container(controller, 'api');
      const file = envValue(c, 'API_TOKENS_FILE');
      const mount = c.volumeMounts?.find((m) => file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
      expect(mount?.readOnly).toBe(true);
      const vol = volumeOf(controller, mount!.name);
      expect(vol.secret?.secretName).toBe('plinth-api-tokens');
      expect(vol.secret?.items).toContainEqual({ key: 'tokens', path: posix.basename(file) });
      const port = portOf(envValue(c, 'API_ADDRESS'));
      expect(envValue(c, 'API_ADDRESS').startsWith('0.0.0.0:')).toBe(true);
      expect(c.ports).toContainEqual(expect.objectContaining({ name: 'api', containerPort: port }));
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'api' });
      const svc = find(base, 'Service', 'plinth-api').spec as { ports: { targetPort: string }[] };
      expect(svc.ports[0]?.targetPort).toBe('api');
    });

    it('metrics listen where the container port and the metrics Service point', () => {
      for (const [spec, name, svc] of [
        [controller, 'controller', 'plinth-controller-metrics'],
        [node, 'node-agent', 'plinth-node-metrics'],
      ] as const) {
        const c = container(spec, name);
        const port = portOf(envValue(c, 'METRICS_ADDRESS'));
        expect(c.ports).toContainEqual(expect.objectContaining({ name: 'metrics', containerPort: port }));
        const s = find(base, 'Service', svc).spec as { ports: { port: number; targetPort: string }[] };
        expect(s.ports).toContainEqual(expect.objectContaining({ port, targetPort: 'metrics' }));
      }
    });
  });

  describe('sockets', () => {
    it('every controller sidecar dials the socket the controller serves, through the same shared volume', () => {
      const driver = container(controller, 'controller');
      const sock = socketPath(envValue(driver, 'CSI_ENDPOINT'));
      const dir = posix.dirname(sock);
      expect(mountOf(driver, 'socket-dir')?.mountPath.replace(/\/$/, '')).toBe(dir);
      expect(volumeOf(controller, 'socket-dir').emptyDir).toBeDefined();
      for (const c of controller.containers.filter((x) => x.name.startsWith('csi-') || x.name === 'liveness-probe')) {
        expect(arg(c, '--csi-address'), c.name).toBe('$(ADDRESS)');
        expect(envValue(c, 'ADDRESS'), c.name).toBe(sock);
        expect(mountOf(c, 'socket-dir')?.mountPath.replace(/\/$/, ''), c.name).toBe(dir);
      }
    });

    it('the registrar registers the node agent’s socket at its host path under the kubelet plugin dir', () => {
      const agent = container(node, 'node-agent');
      const sock = socketPath(envValue(agent, 'CSI_ENDPOINT'));
      const dir = posix.dirname(sock);
      const kubelet = envValue(agent, 'KUBELET_ROOT');
      const hostDir = volumeOf(node, 'plugin-dir').hostPath!.path.replace(/\/$/, '');
      expect(hostDir).toBe(`${kubelet}/plugins/${DRIVER}`);
      for (const c of node.containers) {
        expect(mountOf(c, 'plugin-dir')?.mountPath.replace(/\/$/, ''), c.name).toBe(dir);
        if (c.name !== 'node-agent') {
          expect(envValue(c, 'ADDRESS'), c.name).toBe(sock);
          expect(arg(c, '--csi-address'), c.name).toBe('$(ADDRESS)');
        }
      }
      const reg = container(node, 'node-driver-registrar');
      expect(envValue(reg, 'DRIVER_REG_SOCK_PATH')).toBe(`${hostDir}/${posix.basename(sock)}`);
      expect(arg(reg, '--kubelet-registration-path')).toBe('$(DRIVER_REG_SOCK_PATH)');
      expect(mountOf(reg, 'registration-dir')?.mountPath).toBe('/registration');
      expect(volumeOf(node, 'registration-dir').hostPath?.path.replace(/\/$/, '')).toBe(`${kubelet}/plugins_registry`);
    });

    it('liveness probes hit the livenessprobe sidecar’s port, declared on the probed container', () => {
      for (const [spec, name] of [
        [controller, 'controller'],
        [node, 'node-agent'],
      ] as const) {
        const c = container(spec, name);
        const lp = container(spec, 'liveness-probe');
        const port = portOf(arg(lp, '--http-endpoint')!);
        expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'healthz' });
        expect(c.ports).toContainEqual(expect.objectContaining({ name: 'healthz', containerPort: port }));
        // The kubelet must wait longer than the sidecar waits for the Probe RPC, or a slow answer kills the pod.
        const probeTimeout = /^(\d+)s$/.exec(arg(lp, '--probe-timeout') ?? '')?.[1];
        expect(c.livenessProbe?.timeoutSeconds ?? 1, name).toBeGreaterThan(Number(probeTimeout));
      }
    });
  });

  describe('the node DaemonSet', () => {
    const agent = container(node, 'node-agent');

    it('runs the node agent privileged and only it', () => {
      expect(agent.securityContext?.privileged).toBe(true);
      for (const c of node.containers.filter((x) => x !== agent)) {
        expect(c.securityContext?.privileged, c.name).toBeFalsy();
        expect(c.securityContext?.allowPrivilegeEscalation, c.name).toBe(false);
      }
    });

    it('mounts the kubelet dir with Bidirectional propagation at KUBELET_ROOT, and the host’s /dev and /sys where the agent looks', () => {
      const kubelet = envValue(agent, 'KUBELET_ROOT');
      expect(mountOf(agent, 'kubelet-dir')).toEqual({ name: 'kubelet-dir', mountPath: kubelet, mountPropagation: 'Bidirectional' });
      expect(volumeOf(node, 'kubelet-dir').hostPath).toEqual({ path: kubelet, type: 'Directory' });
      for (const [vol, variable, host] of [
        ['device-dir', 'DEV_ROOT', '/dev'],
        ['sys-dir', 'SYSFS_ROOT', '/sys'],
      ] as const) {
        expect(mountOf(agent, vol)?.mountPath).toBe(envValue(agent, variable));
        expect(mountOf(agent, vol)?.mountPropagation).toBe('HostToContainer');
        expect(volumeOf(node, vol).hostPath?.path).toBe(host);
      }
      // Bidirectional propagation is only legal for privileged containers; no other container has it.
      for (const c of node.containers.filter((x) => x !== agent))
        expect(
          c.volumeMounts?.some((m) => m.mountPropagation === 'Bidirectional'),
          c.name,
        ).toBeFalsy();
    });

    it('tolerates every taint and runs at node-critical priority', () => {
      expect(node.tolerations).toContainEqual({ operator: 'Exists' });
      expect(node.priorityClassName).toBe('system-node-critical');
      expect(controller.priorityClassName).toBe('system-cluster-critical');
    });
  });

  describe('the controller Deployment', () => {
    it('runs more than one replica with a disruption budget', () => {
      expect((find(base, 'Deployment', 'plinth-controller').spec as { replicas: number }).replicas).toBeGreaterThanOrEqual(2);
      expect(find(base, 'PodDisruptionBudget', 'plinth-controller').spec).toMatchObject({ maxUnavailable: 1 });
    });

    it('runs every container as one non-root uid, so the sidecars can open the controller’s 0600 socket', () => {
      expect(controller.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
      for (const c of controller.containers) expect(c.securityContext?.runAsUser, c.name).toBeUndefined();
    });

    it('gives the sidecars leader election, timeouts, worker counts and client rates', () => {
      for (const name of ['csi-provisioner', 'csi-attacher', 'csi-resizer', 'csi-snapshotter']) {
        const c = container(controller, name);
        expect(arg(c, '--leader-election'), name).toBe('true');
        expect(arg(c, '--leader-election-namespace'), name).toBe(NS);
        expect(arg(c, '--timeout'), name).toMatch(/^\d+[sm]$/);
        expect(Number(arg(c, '--kube-api-qps')), name).toBeGreaterThan(5);
        expect(Number(arg(c, name === 'csi-resizer' ? '--workers' : '--worker-threads')), name).toBeGreaterThanOrEqual(10);
      }
      const p = container(controller, 'csi-provisioner');
      expect(p.args).toContain('--feature-gates=Topology=true,VolumeAttributesClass=true');
      expect(p.args).toContain('--extra-create-metadata');
      expect(container(controller, 'csi-resizer').args).toContain('--handle-volume-inuse-error=false');
      expect(container(controller, 'csi-resizer').args).toContain('--feature-gates=VolumeAttributesClass=true');
      // Snapshot tags carry the VolumeSnapshot's name and namespace.
      expect(container(controller, 'csi-snapshotter').args).toContain('--extra-create-metadata');
    });

    it('pins every image: Plinth’s at the apps’ version, sidecars at a release of registry.k8s.io/sig-storage', () => {
      const version = (JSON.parse(readText('apps/controller/package.json')) as { version: string }).version;
      for (const [app, c] of [
        ['controller', container(controller, 'controller')],
        ['api', container(controller, 'api')],
        ['node-agent', container(node, 'node-agent')],
      ] as const) {
        expect(c.image).toBe(`ghcr.io/plinth-dev/plinth-${app}:${version}`);
        expect((JSON.parse(readText(`apps/${app}/package.json`)) as { version: string }).version).toBe(version);
      }
      for (const c of [...controller.containers, ...node.containers].filter((x) => !x.image.includes('/plinth-')))
        expect(c.image, c.name).toMatch(/^registry\.k8s\.io\/sig-storage\/(csi-[a-z-]+|livenessprobe):v\d+\.\d+\.\d+$/);
    });
  });

  describe('RBAC', () => {
    /** What each component needs, as "apiGroup/resource: verbs" (core group written as ""). */
    const NEEDS: Record<string, Record<string, string[]>> = {
      'csi-provisioner': {
        '/persistentvolumes': ['get', 'list', 'watch', 'create', 'patch', 'delete'],
        '/persistentvolumeclaims': ['get', 'list', 'watch', 'update'],
        'storage.k8s.io/storageclasses': ['get', 'list', 'watch'],
        '/events': ['list', 'watch', 'create', 'update', 'patch'],
        'storage.k8s.io/csinodes': ['get', 'list', 'watch'],
        '/nodes': ['get', 'list', 'watch'],
        'storage.k8s.io/volumeattachments': ['get', 'list', 'watch'],
        'snapshot.storage.k8s.io/volumesnapshots': ['get', 'list'],
        'snapshot.storage.k8s.io/volumesnapshotcontents': ['get', 'list'],
        'storage.k8s.io/volumeattributesclasses': ['get', 'list', 'watch'],
      },
      'csi-attacher': {
        '/persistentvolumes': ['get', 'list', 'watch', 'patch'],
        'storage.k8s.io/csinodes': ['get', 'list', 'watch'],
        'storage.k8s.io/volumeattachments': ['get', 'list', 'watch', 'patch'],
        'storage.k8s.io/volumeattachments/status': ['patch'],
      },
      'csi-resizer': {
        '/persistentvolumes': ['get', 'list', 'watch', 'patch'],
        '/persistentvolumeclaims': ['get', 'list', 'watch'],
        '/persistentvolumeclaims/status': ['patch'],
        '/pods': ['get', 'list', 'watch'],
        '/events': ['list', 'watch', 'create', 'update', 'patch'],
        'storage.k8s.io/volumeattributesclasses': ['get', 'list', 'watch'],
      },
      'csi-snapshotter': {
        '/events': ['list', 'watch', 'create', 'update', 'patch'],
        'snapshot.storage.k8s.io/volumesnapshotclasses': ['get', 'list', 'watch'],
        'snapshot.storage.k8s.io/volumesnapshotcontents': ['get', 'list', 'watch', 'update', 'patch'],
        'snapshot.storage.k8s.io/volumesnapshotcontents/status': ['update', 'patch'],
      },
      api: { '/nodes': ['list'], '/persistentvolumes': ['list'], 'storage.k8s.io/csinodes': ['list'], 'storage.k8s.io/volumeattachments': ['list'] },
      'leader-election (namespaced)': { 'coordination.k8s.io/leases': ['get', 'watch', 'list', 'delete', 'update', 'create'] },
      'capacity (namespaced)': {
        'storage.k8s.io/csistoragecapacities': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
        '/pods': ['get'],
        'apps/replicasets': ['get'],
      },
      // Its own Node (metadata, drain state; patch: the startup taint's removal once its CSINode lists the driver);
      // VolumeAttachments for the preStop hook's wait.
      'node-agent': { '/nodes': ['get', 'patch'], 'storage.k8s.io/csinodes': ['get'], 'storage.k8s.io/volumeattachments': ['get', 'list', 'watch'] },
    };
    const union = (...parts: string[]): Record<string, string[]> => {
      const out: Record<string, Set<string>> = {};
      for (const p of parts) for (const [r, verbs] of Object.entries(NEEDS[p]!)) for (const v of verbs) (out[r] ??= new Set()).add(v);
      return Object.fromEntries(Object.entries(out).map(([r, v]) => [r, [...v].sort()]));
    };

    /** Everything a ServiceAccount may do through the bindings in `docs`, as "apiGroup/resource: verbs". */
    function grants(docs: Manifest[], sa: string): Record<string, string[]> {
      const out: Record<string, Set<string>> = {};
      for (const b of docs.filter((d) => d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding')) {
        if (!b.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === NS)) continue;
        const role = find(docs, b.roleRef!.kind, b.roleRef!.name);
        for (const r of role.rules ?? [])
          for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) (out[`${g}/${res}`] ??= new Set()).add(v);
      }
      return Object.fromEntries(Object.entries(out).map(([r, v]) => [r, [...v].sort()]));
    }

    it('no rule uses a wildcard, touches Secrets, or escalates (bind, escalate, impersonate)', () => {
      for (const r of base.flatMap((d) => d.rules ?? [])) {
        expect([...r.apiGroups, ...r.resources, ...r.verbs]).not.toContain('*');
        expect(r.resources).not.toContain('secrets');
        expect(r.verbs.filter((v) => ['bind', 'escalate', 'impersonate'].includes(v))).toEqual([]);
      }
    });

    it('the controller’s ServiceAccount has exactly what its sidecars and the API need', () => {
      expect(controller.serviceAccountName).toBe('plinth-controller');
      expect(grants(base, 'plinth-controller')).toEqual(
        union('csi-provisioner', 'csi-attacher', 'csi-resizer', 'csi-snapshotter', 'api', 'leader-election (namespaced)', 'capacity (namespaced)'),
      );
      // Leases only in our namespace, through a Role.
      const leases = base.filter((d) => d.rules?.some((r) => r.resources.includes('leases')));
      expect(leases.map((d) => `${d.kind}/${d.metadata.namespace}`)).toEqual([`Role/${NS}`]);
    });

    it('the node ServiceAccount may only get and patch Nodes (startup taint), get CSINodes and read VolumeAttachments (preStop)', () => {
      expect(node.serviceAccountName).toBe('plinth-node');
      expect(grants(base, 'plinth-node')).toEqual(union('node-agent'));
    });

    it('Redis has no Kubernetes access and no token', () => {
      const redis = podSpec(find(base, 'StatefulSet', 'plinth-redis'));
      expect(redis.automountServiceAccountToken).toBe(false);
      expect(grants(base, redis.serviceAccountName!)).toEqual({});
    });

    it('every ServiceAccount used exists, and every binding names a ServiceAccount and role that exist', () => {
      for (const spec of [controller, node, podSpec(find(base, 'StatefulSet', 'plinth-redis'))]) find(base, 'ServiceAccount', spec.serviceAccountName!);
      for (const b of base.filter((d) => d.kind.endsWith('Binding'))) {
        find(base, b.roleRef!.kind, b.roleRef!.name);
        for (const s of b.subjects ?? []) find(base, s.kind, s.name);
      }
    });
  });

  describe('Redis', () => {
    const redis = podSpec(find(base, 'StatefulSet', 'plinth-redis'));
    const c = container(redis, 'redis');

    it('keeps an append-only file on a PersistentVolume, never evicts (BullMQ), and takes its password from the Secret', () => {
      expect(c.args?.join(' ')).toMatch(/--appendonly yes --appendfsync everysec --dir \/data/);
      expect(c.args?.join(' ')).toContain('--maxmemory-policy noeviction');
      expect(c.args?.join(' ')).toContain('--requirepass $(REDIS_PASSWORD)');
      expect(env(c, 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'plinth-redis', key: 'password' });
      expect(mountOf(c, 'data')?.mountPath).toBe('/data');
      const claims = (find(base, 'StatefulSet', 'plinth-redis').spec as { volumeClaimTemplates: { metadata: { name: string } }[] }).volumeClaimTemplates;
      expect(claims.map((t) => t.metadata.name)).toEqual(['data']);
    });

    it('is reachable only from the controller and node pods', () => {
      const np = find(base, 'NetworkPolicy', 'plinth-redis').spec as { policyTypes: string[]; ingress: unknown[] };
      expect(np.policyTypes).toEqual(['Ingress']);
      expect(JSON.stringify(np.ingress)).toContain('"values":["controller","node"]');
    });
  });
});

describe('the overlays and examples', () => {
  const overlays = ['eks', 'k3s'];

  it.each(overlays)('%s: generates the Secrets the base reads, with the keys it reads, from files kept out of git', (o) => {
    const k = loadYaml<{ resources: string[]; secretGenerator: { name: string; namespace: string; envs?: string[]; files?: string[] }[] }>(
      `infra/kubernetes/overlays/${o}/kustomization.yaml`,
    );
    expect(k.resources).toContain('../../base');
    expect(readText(`infra/kubernetes/overlays/${o}/.gitignore`)).toMatch(/^secrets\/$/m);
    const gen = Object.fromEntries(k.secretGenerator.map((g) => [g.name, g]));
    expect(gen['plinth-redis']?.namespace).toBe(NS);
    expect(gen['plinth-redis']?.envs).toEqual(['secrets/redis.env']);
    const keys = readText(`infra/kubernetes/overlays/${o}/secrets.example/redis.env`)
      .split('\n')
      .filter((l) => /^\w+=/.test(l))
      .map((l) => l.split('=')[0])
      .sort();
    expect(keys).toEqual(['password', 'url']);
    expect(gen['plinth-api-tokens']?.files).toEqual(['tokens=secrets/api-tokens']);
    readText(`infra/kubernetes/overlays/${o}/secrets.example/api-tokens`);
  });

  it('EKS StorageClass: gp3, encrypted, WaitForFirstConsumer, zones through topology.kubernetes.io/zone, parameters the controller accepts', () => {
    const [sc] = loadManifests('infra/kubernetes/overlays/eks/storageclass.yaml');
    expect(sc).toMatchObject({ kind: 'StorageClass', provisioner: DRIVER, volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true });
    expect(sc!.parameters).toMatchObject({ type: 'gp3', encrypted: 'true' });
    const topo = sc!.allowedTopologies as { matchLabelExpressions: { key: string; values: string[] }[] }[];
    expect(topo[0]?.matchLabelExpressions[0]?.key).toBe('topology.kubernetes.io/zone');
    expect(() => parseVolumeParams(sc!.parameters!)).not.toThrow();
  });

  it('k3s StorageClass: gp3 through Plinth, parameters the controller accepts', () => {
    const [sc] = loadManifests('infra/kubernetes/overlays/k3s/storageclass.yaml');
    expect(sc).toMatchObject({ kind: 'StorageClass', provisioner: DRIVER, volumeBindingMode: 'WaitForFirstConsumer' });
    expect(() => parseVolumeParams(sc!.parameters!)).not.toThrow();
  });

  it('the VolumeSnapshotClass and VolumeAttributesClass name the driver; the attributes are valid volume parameters', () => {
    const [vsc] = loadManifests('infra/kubernetes/examples/volumesnapshotclass.yaml');
    expect(vsc).toMatchObject({ apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshotClass', driver: DRIVER, deletionPolicy: 'Delete' });
    const [vac] = loadManifests('infra/kubernetes/examples/volumeattributesclass.yaml');
    expect(vac).toMatchObject({ apiVersion: 'storage.k8s.io/v1', kind: 'VolumeAttributesClass', driverName: DRIVER });
    expect(() => parseVolumeParams(vac!.parameters!)).not.toThrow();
  });

  it('the patches name objects and containers that exist in the base', () => {
    for (const file of ['infra/kubernetes/overlays/eks/region.yaml', 'infra/kubernetes/overlays/k3s/node.yaml']) {
      for (const patch of loadManifests(file)) {
        const target = podSpec(find(base, patch.kind, patch.metadata.name));
        for (const c of podSpec(patch).containers) {
          const real = container(target, c.name);
          for (const e of c.env ?? []) expect(env(real, e.name), `${file}: ${c.name} ${e.name}`).toBeDefined();
        }
      }
    }
  });
});
