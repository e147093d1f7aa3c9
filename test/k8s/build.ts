/**
 * Builds the Kubernetes control plane and CSI sidecars the k8s e2e runs, from the Go module proxy, into
 * `${XDG_CACHE_HOME:-$HOME/.cache}/plinth/k8s/bin` (outside the repo). Each binary is built in a scratch
 * Go module of its own under `.../plinth/k8s/src/<name>@<version>` that requires the upstream module at the
 * pinned version and carries over its `replace` directives (k8s.io/kubernetes' `./staging/src/k8s.io/x`
 * replaces become `k8s.io/x v0.<minor>.<patch>`; other local-path replaces are dropped so the required
 * version applies). A `<name>.stamp` beside each binary records what it was built from: a binary whose
 * stamp matches the pins is reused, so only the first run pays the build.
 *
 *   node --import tsx test/k8s/build.ts [name…]     build (or confirm cached) all or some binaries (all: and helm)
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureHelm } from '../infra/helm.js';
import { PINS } from './versions.js';

const exec = promisify(execFile);

export const K8S_VERSION = PINS.kubernetes;
/** The staging modules' tag that matches K8S_VERSION: v1.33.13 → v0.33.13. */
export const STAGING_VERSION = K8S_VERSION.replace(/^v1\./, 'v0.');
const [, K8S_MAJOR, K8S_MINOR] = /^v(\d+)\.(\d+)\./.exec(K8S_VERSION) ?? [];

/** The snapshot CRDs the e2e installs: external-snapshotter's client module at the snapshotter's release. */
export const SNAPSHOT_CLIENT = { module: 'github.com/kubernetes-csi/external-snapshotter/client/v8', version: PINS.sidecars['csi-snapshotter'].version };

export interface Binary {
  name: string;
  module: string;
  version: string;
  /** The main package to build. */
  pkg: string;
  ldflags: string[];
  /** Go build tags. */
  tags?: string[];
}

const k8sLdflags = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((p) => [
  `-X ${p}.gitVersion=${K8S_VERSION}`,
  `-X ${p}.gitMajor=${K8S_MAJOR}`,
  `-X ${p}.gitMinor=${K8S_MINOR}`,
  `-X ${p}.gitTreeState=clean`,
]);
const sidecar = (name: keyof typeof PINS.sidecars): Binary => {
  const { module, version } = PINS.sidecars[name];
  return { name, module, version, pkg: `${module}/cmd/${name}`, ldflags: [`-X main.version=${version}`] };
};
const k8s = (name: string): Binary => ({ name, module: 'k8s.io/kubernetes', version: K8S_VERSION, pkg: `k8s.io/kubernetes/cmd/${name}`, ldflags: k8sLdflags });
const containerd = (name: string): Binary => ({
  name,
  module: 'github.com/containerd/containerd/v2',
  version: PINS.containerd,
  pkg: `github.com/containerd/containerd/v2/cmd/${name}`,
  ldflags: [`-X github.com/containerd/containerd/v2/version.Version=${PINS.containerd}`],
  // CGO_ENABLED=0: the btrfs and devmapper snapshotters need cgo (the e2e uses overlayfs/native).
  tags: ['no_btrfs', 'no_devmapper', 'no_zfs', 'osusergo', 'netgo'],
});

export const BINARIES: Binary[] = [
  { name: 'etcd', module: 'go.etcd.io/etcd/server/v3', version: PINS.etcd, pkg: 'go.etcd.io/etcd/server/v3', ldflags: [] },
  k8s('kube-apiserver'),
  k8s('kube-controller-manager'),
  k8s('kube-scheduler'),
  k8s('kubelet'),
  containerd('containerd'),
  containerd('containerd-shim-runc-v2'),
  containerd('ctr'),
  sidecar('csi-provisioner'),
  sidecar('csi-attacher'),
  sidecar('csi-resizer'),
  sidecar('csi-snapshotter'),
  sidecar('snapshot-controller'),
  sidecar('csi-snapshot-metadata'),
];

/** Bumped when the way binaries are built changes, so cached ones are rebuilt. */
const RECIPE = 1;

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'plinth');
}
export const binDir = (): string => join(cacheRoot(), 'k8s', 'bin');
/**
 * Where a binary is cached: `bin/<name>@<version>/<name>`, so checkouts pinning other versions (another branch,
 * an older clone) share the cache without rebuilding over each other. The directory holds only that binary, so
 * it can go on a PATH (containerd finds its shim by name).
 */
export function binPath(name: string): string {
  const b = BINARIES.find((x) => x.name === name);
  if (!b) throw new Error(`test/k8s/build.ts builds no ${name}`);
  return join(binDir(), `${b.name}@${b.version}`, b.name);
}

/** Go's env for every build: caches under the plinth cache dir, static, reproducible, no toolchain downloads. */
export function goEnv(): NodeJS.ProcessEnv {
  const root = cacheRoot();
  return {
    ...process.env,
    GOMODCACHE: join(root, 'go', 'mod'),
    GOCACHE: join(root, 'go', 'build'),
    GOFLAGS: '-mod=mod -trimpath -buildvcs=false',
    CGO_ENABLED: '0',
    GOTOOLCHAIN: 'local',
    GO111MODULE: 'on',
    GOWORK: 'off',
  };
}

const stampOf = (b: Binary): string =>
  JSON.stringify({
    recipe: RECIPE,
    module: b.module,
    version: b.version,
    pkg: b.pkg,
    ldflags: b.ldflags,
    tags: b.tags,
    staging: b.module === 'k8s.io/kubernetes' ? STAGING_VERSION : undefined,
  });

async function cached(b: Binary): Promise<boolean> {
  const bin = binPath(b.name);
  try {
    await stat(bin);
    return (await readFile(`${bin}.stamp`, 'utf8')) === stampOf(b);
  } catch {
    return false;
  }
}

async function go(args: string[], cwd: string, log: (m: string) => void): Promise<string> {
  try {
    const { stdout } = await exec('go', args, { cwd, env: goEnv(), timeout: 60 * 60_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    log(`go ${args.join(' ')} (in ${cwd}) failed:\n${err.stderr ?? err.message}`);
    throw new Error(`go ${args[0]} failed in ${cwd}: ${(err.stderr ?? err.message).split('\n').slice(-6).join('\n')}`, { cause: e });
  }
}

/** `go mod download -json mod@ver`: the module's directory and go.mod path in the module cache. */
export async function downloadModule(module: string, version: string, log: (m: string) => void = console.error): Promise<{ Dir: string; GoMod: string }> {
  const out = await go(['mod', 'download', '-json', `${module}@${version}`], cacheRoot(), log);
  const info = JSON.parse(out) as { Dir?: string; GoMod?: string; Error?: string };
  if (info.Error || !info.Dir || !info.GoMod) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? 'no Dir in the answer'}`);
  return { Dir: info.Dir, GoMod: info.GoMod };
}

/** The upstream go.mod's replace directives, made fit for a module that only requires it. */
export function carriedReplaces(goMod: string, b: Pick<Binary, 'module'>): string[] {
  const lines: string[] = [];
  let inBlock = false;
  for (const raw of goMod.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!inBlock && /^replace\s*\($/.test(line)) {
      inBlock = true;
      continue;
    }
    if (inBlock && line === ')') {
      inBlock = false;
      continue;
    }
    const body = inBlock ? line : /^replace\s+(.*)$/.exec(line)?.[1];
    if (!body) continue;
    const m = /^(\S+)(?:\s+(\S+))?\s*=>\s*(\S+)(?:\s+(\S+))?$/.exec(body);
    if (!m) continue;
    const [, from = '', fromVer, to = '', toVer] = m;
    if (to.startsWith('./') || to.startsWith('../')) {
      if (b.module === 'k8s.io/kubernetes' && from.startsWith('k8s.io/')) lines.push(`${from} => ${from} ${STAGING_VERSION}`);
      continue; // another local replace: the version the module requires applies
    }
    lines.push(`${from}${fromVer ? ` ${fromVer}` : ''} => ${to}${toVer ? ` ${toVer}` : ''}`);
  }
  return lines;
}

/**
 * The k8s.io staging modules (api, apimachinery, apiserver, client-go, component-base, …) are released together and
 * only build at one version: `go get` can lift some (a dependency wanting k8s.io/api v0.37) and not others
 * (csi-snapshotter v8.6.0: apimachinery v0.37.0 beside apiserver v0.36.1). Lifts every one to apimachinery's.
 */
async function alignStaging(src: string, log: (m: string) => void): Promise<void> {
  const mod = await readFile(join(src, 'go.mod'), 'utf8');
  const staging = [...mod.matchAll(/^\s*(k8s\.io\/[a-z-]+) (v0\.\d+\.\d+)\b/gm)].map((m) => ({ path: m[1] ?? '', version: m[2] ?? '' }));
  const want = staging.find((m) => m.path === 'k8s.io/apimachinery')?.version;
  const STAGING =
    /^k8s\.io\/(api|apimachinery|apiserver|client-go|component-base|component-helpers|kms|kube-aggregator|apiextensions-apiserver|cloud-provider|controller-manager|kubelet|cri-api|csi-translation-lib|metrics|mount-utils|code-generator|kube-openapi-none)$/;
  const off = staging.filter((m) => STAGING.test(m.path) && m.version !== want);
  if (!want || !off.length) return;
  log(`aligning ${off.map((m) => `${m.path} ${m.version}`).join(', ')} to ${want}`);
  await go(['get', ...off.map((m) => `${m.path}@${want}`)], src, log);
}

async function buildOne(b: Binary, log: (m: string) => void): Promise<void> {
  const dest = binPath(b.name);
  await mkdir(dirname(dest), { recursive: true });
  const out = `${dest}.${process.pid}.tmp`; // per process: two builds of one binary never write one file
  const buildArgs = ['build', '-ldflags', ['-s', '-w', ...b.ldflags].join(' '), ...(b.tags?.length ? ['-tags', b.tags.join(',')] : []), '-o', out];
  const root = cacheRoot();
  const src = join(root, 'k8s', 'src', `${b.name}@${b.version}`);
  await rm(src, { recursive: true, force: true });
  await mkdir(src, { recursive: true });
  const { Dir, GoMod } = await downloadModule(b.module, b.version, log);
  const replaces = carriedReplaces(await readFile(GoMod, 'utf8'), b);
  // The upstream go.sum pins the checksums of the dependencies it was released with, so those need no
  // checksum-database lookup (which some proxies do not serve for every module).
  const upstreamSum = await readFile(join(Dir, 'go.sum'), 'utf8').catch(() => '');
  await writeFile(join(src, 'go.sum'), upstreamSum);
  const modName = `plinth.local/k8s-build/${b.name}`;
  await writeFile(
    join(src, 'go.mod'),
    [
      `module ${modName}`,
      '',
      'go 1.24.0',
      '',
      `require ${b.module} ${b.version}`,
      '',
      ...(replaces.length ? ['replace (', ...replaces.map((r) => `\t${r}`), ')'] : []),
      '',
    ].join('\n'),
  );
  // Resolve the package's import graph into go.mod/go.sum, then build it.
  await go(['get', `${b.pkg}@${b.version}`], src, log);
  if (b.module !== 'k8s.io/kubernetes') await alignStaging(src, log);
  await go([...buildArgs, b.pkg], src, log);
  await writeFile(`${dest}.stamp`, stampOf(b));
  await rename(out, dest);
}

/** The sidecars' newest releases declare `go 1.26.0`; GOTOOLCHAIN=local means no toolchain is downloaded. */
export const MIN_GO = [1, 26] as const;

async function checkGo(): Promise<void> {
  let out: string;
  try {
    out = (await exec('go', ['env', 'GOVERSION'], { env: goEnv(), timeout: 30_000 })).stdout.trim();
  } catch (e) {
    throw new Error(`Go ≥ ${MIN_GO.join('.')} is needed to build the Kubernetes binaries (is \`go\` on PATH?): ${(e as Error).message}`, { cause: e });
  }
  const [, major = '0', minor = '0'] = /^go(\d+)\.(\d+)/.exec(out) ?? [];
  if (Number(major) < MIN_GO[0] || (Number(major) === MIN_GO[0] && Number(minor) < MIN_GO[1]))
    throw new Error(`Go ≥ ${MIN_GO.join('.')} is needed to build the Kubernetes binaries; PATH has ${out}`);
}

export interface BuildReport {
  dir: string;
  /** name → seconds spent building it (0 when it was cached). */
  secs: Record<string, number>;
  totalSecs: number;
  built: string[];
}

/** Builds every binary the cache lacks (one at a time: 2 cores do not build two at once any faster). */
export async function ensureK8sBinaries(opts: { only?: string[]; log?: (m: string) => void } = {}): Promise<BuildReport> {
  const log = opts.log ?? ((m: string) => console.error(`[k8s-build] ${m}`));
  const wanted = opts.only?.length ? BINARIES.filter((b) => opts.only?.includes(b.name)) : BINARIES;
  await mkdir(binDir(), { recursive: true });
  const t0 = Date.now();
  const report: BuildReport = { dir: binDir(), secs: {}, totalSecs: 0, built: [] };
  let goChecked = false;
  for (const b of wanted) {
    if (await cached(b)) {
      report.secs[b.name] = 0;
      continue;
    }
    if (!goChecked) {
      await checkGo();
      goChecked = true;
    }
    log(`building ${b.name} (${b.module}@${b.version}) into ${binDir()} …`);
    const t = Date.now();
    await buildOne(b, log);
    report.secs[b.name] = (Date.now() - t) / 1000;
    report.built.push(b.name);
    log(`built ${b.name} in ${report.secs[b.name]?.toFixed(1)} s`);
  }
  report.totalSecs = (Date.now() - t0) / 1000;
  if (report.built.length)
    log(
      `cold build: ${report.built.length} binaries in ${report.totalSecs.toFixed(1)} s (${report.built.map((n) => `${n} ${report.secs[n]?.toFixed(0)} s`).join(', ')})`,
    );
  else log(`all ${wanted.length} binaries cached in ${binDir()} (checked in ${report.totalSecs.toFixed(1)} s)`);
  return report;
}

/**
 * The node's Debian packages: runc (containerd's runtime), busybox-static (the Pod images, ./images.ts) and
 * containernetworking-plugins (the CNI config that makes the runtime's network ready). Installed with apt-get when
 * missing and running as root, as scripts/lib/deps.mjs does for the stack's tools.
 */
export const NODE_PACKAGES: { pkg: string; file: string }[] = [
  { pkg: 'runc', file: '/usr/sbin/runc' },
  { pkg: 'busybox-static', file: '/bin/busybox' },
  { pkg: 'containernetworking-plugins', file: '/usr/lib/cni/bridge' },
];

export async function ensureNodePackages(log: (m: string) => void = console.error): Promise<void> {
  const missing: string[] = [];
  for (const p of NODE_PACKAGES) if (!(await stat(p.file).catch(() => undefined))) missing.push(p.pkg);
  if (!missing.length) return;
  const hint = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) throw new Error(`the e2e's node needs ${missing.join(', ')}; as root run: apt-get update && ${hint}`);
  log(`installing ${missing.join(', ')} (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await exec('apt-get', ['update'], { env, timeout: 10 * 60_000 });
  await exec('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, timeout: 15 * 60_000 });
}

/** The Go proxy's copy of the snapshot CRDs (client/v8's config/crd/*.yaml), as file paths. */
export async function snapshotCrdFiles(): Promise<string[]> {
  const { Dir } = await downloadModule(SNAPSHOT_CLIENT.module, SNAPSHOT_CLIENT.version);
  const names = [
    'snapshot.storage.k8s.io_volumesnapshotclasses.yaml',
    'snapshot.storage.k8s.io_volumesnapshotcontents.yaml',
    'snapshot.storage.k8s.io_volumesnapshots.yaml',
  ];
  return names.map((n) => join(Dir, 'config', 'crd', n));
}

/** What the changed-block flow reads from external-snapshot-metadata's release: its API, its CRD, the client role. */
export interface SnapshotMetadataFiles {
  /** The sidecar's gRPC API (proto/schema.proto), loaded at run time by the e2e's backup client. */
  proto: string;
  /** The SnapshotMetadataService CRD, from the client module the sidecar's go.mod requires. */
  crd: string;
  /** deploy/snapshot-metadata-client-cluster-role.yaml: what a backup client needs. */
  clientRole: string;
}

export async function snapshotMetadataFiles(): Promise<SnapshotMetadataFiles> {
  const pin = PINS.sidecars['csi-snapshot-metadata'];
  const { Dir, GoMod } = await downloadModule(pin.module, pin.version);
  const client = `${pin.module}/client`;
  const version = new RegExp(`^\\s*${client.replace(/[./]/g, '\\$&')}\\s+(v\\S+)`, 'm').exec(await readFile(GoMod, 'utf8'))?.[1];
  if (!version) throw new Error(`${pin.module}@${pin.version}'s go.mod requires no ${client}`);
  const crdDir = join((await downloadModule(client, version)).Dir, 'config', 'crd');
  return {
    proto: join(Dir, 'proto', 'schema.proto'),
    crd: join(crdDir, 'cbt.storage.k8s.io_snapshotmetadataservices.yaml'),
    clientRole: join(Dir, 'deploy', 'snapshot-metadata-client-cluster-role.yaml'),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const only = process.argv.slice(2);
    await ensureK8sBinaries({ only });
    if (!only.length) await ensureNodePackages((m) => console.error(`[k8s-build] ${m}`));
    // The e2e renders the chart too: build helm now as well, rather than with the stack up.
    if (!only.length) await ensureHelm((m) => console.error(`[k8s-build] ${m}`));
  } catch (e) {
    console.error(`[k8s-build] ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
