/**
 * helm, built with `go install` from the Go module proxy into `${XDG_CACHE_HOME:-$HOME/.cache}/plinth/bin`
 * (outside the repo) on first use and reused while the cached binary is the pinned version (about 3 minutes
 * cold on a 2-CPU machine, including the module downloads). Used to render infra/helm/plinth.
 */
import { execFile } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const HELM_MODULE = 'helm.sh/helm/v3';
const HELM_VERSION = 'v3.22.0';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART_DIR = join(REPO_ROOT, 'infra/helm/plinth');
export const BASE_FILE = join(REPO_ROOT, 'infra/kubernetes/base/plinth.yaml');
/** The release name and namespace the plain manifests are rendered with. */
const RELEASE = 'plinth';
const NAMESPACE = 'kube-system';
const BASE_HEADER =
  '# Generated from infra/helm/plinth with its default values (release "plinth", namespace kube-system).\n' +
  '# Do not edit: change the chart and run `node --import tsx test/infra/render-base.ts`;\n' +
  '# test/infra/helm.test.ts fails while this file and the chart differ. Customise with kustomize overlays.\n';

function cacheBin(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'plinth', 'bin');
}

async function builtVersion(bin: string): Promise<string | undefined> {
  try {
    const { stdout } = await exec('go', ['version', '-m', bin], { timeout: 30_000 });
    const line = stdout.split('\n').find((l) => l.trim().startsWith('mod\t') && l.includes(HELM_MODULE));
    return line?.trim().split('\t')[2];
  } catch {
    return undefined;
  }
}

/** Path of a helm of the pinned version, building it first if the cache lacks it. Throws (never skips) without Go. */
export async function ensureHelm(log: (m: string) => void = (m) => console.error(m)): Promise<string> {
  const dir = cacheBin();
  const bin = join(dir, 'helm');
  const have = await stat(bin).then(
    () => true,
    () => false,
  );
  if (have && (await builtVersion(bin)) === HELM_VERSION) return bin;
  await mkdir(dir, { recursive: true });
  log(`building helm ${HELM_VERSION} into ${dir} (go install from the Go module proxy; cached for later runs)`);
  const t0 = Date.now();
  try {
    await exec('go', ['install', `${HELM_MODULE}/cmd/helm@${HELM_VERSION}`], {
      timeout: 15 * 60_000,
      cwd: dir,
      env: { ...process.env, GOBIN: dir, GOFLAGS: '-mod=mod -buildvcs=false', GO111MODULE: 'on' },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (e) {
    throw new Error(
      `helm is needed to render infra/helm/plinth and could not be built with \`go install ${HELM_MODULE}/cmd/helm@${HELM_VERSION}\` (is Go ≥ 1.24 on PATH, and the Go module proxy reachable?): ${(e as Error).message}`,
      { cause: e },
    );
  }
  const v = await builtVersion(bin);
  if (v !== HELM_VERSION) throw new Error(`go install left ${bin} at version ${v ?? 'unknown'}, not ${HELM_VERSION}`);
  log(`helm built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return bin;
}

/** `helm template` of the chart; `set` entries are passed as --set-json key=<json>. */
export async function renderChart(helm: string, set: Record<string, unknown> = {}): Promise<string> {
  const args = ['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE];
  for (const [k, v] of Object.entries(set)) args.push('--set-json', `${k}=${JSON.stringify(v)}`);
  const { stdout } = await exec(helm, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** The exact contents infra/kubernetes/base/plinth.yaml must have. */
export async function renderBase(helm: string): Promise<string> {
  return BASE_HEADER + (await renderChart(helm));
}
