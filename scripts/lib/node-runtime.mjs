// The Node.js the project runs on: the version in .node-version (Node 24 LTS).
// When the host's Node is older, `npm run dev` and `npm test` bring that version themselves from the npm
// registry (the node-<platform>-<arch> package carries the official binary; npm checks its integrity),
// cache it outside the repo, and run again under it with it first on PATH, so every child (npx, vitest,
// the apps, the benchmarks) runs on it too. Node builtins only: this runs before node_modules exists.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { ROOT, log, run } from './util.mjs';

const NODE_VERSION = readFileSync(join(ROOT, '.node-version'), 'utf8').trim();

const major = (v) => Number(v.replace(/^v/, '').split('.')[0]);

function cacheDir(env = process.env) {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'plinth', 'node');
}

/** The node binary to run on, or null when this process already runs on the wanted major. */
export async function ensureNode() {
  if (major(process.versions.node) >= major(NODE_VERSION)) return null;
  const dir = join(cacheDir(), `${NODE_VERSION}-${process.platform}-${process.arch}`);
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  const pkg = `node-${process.platform}-${process.arch}@${NODE_VERSION}`;
  log(`this machine runs Node ${process.versions.node}; bringing Node ${NODE_VERSION} (${pkg} from the npm registry) into ${dir}…`);
  mkdirSync(dirname(dir), { recursive: true });
  const scratch = mkdtempSync(join(dirname(dir), '.download-'));
  try {
    if (
      (await run('npm', ['pack', pkg, '--pack-destination', scratch, '--silent'], { timeoutMs: 10 * 60_000, stdio: ['ignore', 'ignore', 'inherit'] })) !== 0
    ) {
      throw new Error(`npm pack ${pkg} failed; see the output above`);
    }
    const tgz = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${pkg} wrote no archive`);
    const out = join(scratch, 'node');
    mkdirSync(out);
    if ((await run('tar', ['-xzf', join(scratch, tgz), '-C', out, '--strip-components=1'], { timeoutMs: 5 * 60_000 })) !== 0) {
      throw new Error(`unpacking ${tgz} failed`);
    }
    if (!existsSync(join(out, 'bin', 'node'))) throw new Error(`${pkg} has no bin/node`);
    renameSync(out, dir); // atomic: a half-unpacked runtime is never found
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return bin;
}

/** Runs this script again under `bin` (first on PATH for every child); resolves with its exit code. */
export function rerunUnder(bin) {
  const child = spawn(bin, process.argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${dirname(bin)}${delimiter}${process.env.PATH ?? ''}`, PLINTH_NODE: bin },
  });
  // A terminal's Ctrl-C and hang-up reach the whole process group, the child too; a SIGTERM (CI, a supervisor) only us.
  for (const sig of ['SIGINT', 'SIGHUP']) process.on(sig, () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}
