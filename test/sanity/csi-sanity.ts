/**
 * csi-sanity, built with `go install` from the Go module proxy into
 * `${XDG_CACHE_HOME:-$HOME/.cache}/plinth/bin/csi-sanity@<version>/` (outside the
 * repo; one directory per version, so clones pinning other versions do not
 * rebuild each other's) and reused while the cached binary is that version.
 * v5.6.0 is built on CSI spec v1.13.0: it knows the health RPCs and still
 * accepts the VOLUME_CONDITION capability values.
 */
import { execFile } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const CSI_SANITY_MODULE = 'github.com/kubernetes-csi/csi-test/v5';
const CSI_SANITY_VERSION = 'v5.6.0';

function cacheBin(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'plinth', 'bin');
}

/** The module version a Go binary was built from (`go version -m`), or undefined. */
async function builtVersion(bin: string): Promise<string | undefined> {
  try {
    const { stdout } = await exec('go', ['version', '-m', bin], { timeout: 30_000 });
    const line = stdout.split('\n').find((l) => l.trim().startsWith('mod\t') && l.includes(CSI_SANITY_MODULE));
    return line?.trim().split('\t')[2];
  } catch {
    return undefined;
  }
}

/** Path of a csi-sanity of the pinned version, building it first if the cache lacks it. */
export async function ensureCsiSanity(log: (m: string) => void): Promise<string> {
  const dir = join(cacheBin(), `csi-sanity@${CSI_SANITY_VERSION}`);
  const bin = join(dir, 'csi-sanity');
  const have = await stat(bin).then(
    () => true,
    () => false,
  );
  if (have && (await builtVersion(bin)) === CSI_SANITY_VERSION) return bin;
  await mkdir(dir, { recursive: true });
  log(`building csi-sanity ${CSI_SANITY_VERSION} into ${dir} (go install; cached for later runs)`);
  const t0 = Date.now();
  await exec('go', ['install', `${CSI_SANITY_MODULE}/cmd/csi-sanity@${CSI_SANITY_VERSION}`], {
    timeout: 15 * 60_000,
    cwd: dir,
    env: { ...process.env, GOBIN: dir, GOFLAGS: '-mod=mod', GO111MODULE: 'on' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const v = await builtVersion(bin);
  if (v !== CSI_SANITY_VERSION) throw new Error(`go install left ${bin} at version ${v ?? 'unknown'}, not ${CSI_SANITY_VERSION}`);
  log(`csi-sanity built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return bin;
}
