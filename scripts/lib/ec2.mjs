// The EC2 API: LocalStack 4.14.0 (the last Apache-2.0 release) running in
// host mode from a project-local virtualenv, moto_server when LocalStack
// cannot be had, or whatever EC2_ENDPOINT points at.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, boxed, freePort, httpGet, log, portInUse, run, sleep, tailOf, waitFor, which } from './util.mjs';

const LOCALSTACK_VERSION = '4.14.0';
const VENV = join(ROOT, '.plinth', 'venv');
const PY = join(VENV, 'bin', 'python');
// `localstack` on PyPI is only the CLI (it drives Docker); the runtime that
// runs on the host is `localstack-core[runtime]`. Its dependencies are
// unpinned and newer releases break it (cbor2 6 drops cbor2._decoder,
// pyOpenSSL 26 drops X509.add_extensions, twisted 26 wants service_identity),
// so install against a frozen set known to work.
const CONSTRAINTS = join(ROOT, 'scripts', 'lib', 'localstack-constraints.txt');
const REQS = [`localstack-core[runtime]==${LOCALSTACK_VERSION}`, 'service-identity'];

function installStamp() {
  return createHash('sha256').update(REQS.join('\n')).update(readFileSync(CONSTRAINTS)).digest('hex');
}

/** mkdir is atomic: a poor man's lock so two runs don't pip into one venv. */
async function withLock(dir, fn) {
  for (let i = 0; ; i++) {
    try {
      mkdirSync(dir);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      if (Date.now() - statSync(dir).mtimeMs > 20 * 60_000) rmSync(dir, { recursive: true, force: true });
      if (i % 30 === 0) log('waiting for another run to finish installing LocalStack…');
      await sleep(2000);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ensureLocalStack(logDir) {
  const stampFile = join(VENV, '.plinth-stamp');
  const want = installStamp();
  const ok = () => existsSync(PY) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === want;
  if (ok()) return;
  mkdirSync(join(ROOT, '.plinth'), { recursive: true });
  await withLock(join(ROOT, '.plinth', 'venv.lock'), async () => {
    if (ok()) return;
    const python = which('python3');
    if (!python) throw new Error('python3 not found');
    const logFile = join(logDir, 'localstack-install.log');
    const started = Date.now();
    log(`installing LocalStack ${LOCALSTACK_VERSION} into .plinth/venv (first run only, ~1-2 min; log: ${logFile})…`);
    const viaLog = async (cmd, args) => {
      const fd = openSync(logFile, 'a');
      try {
        return await run(cmd, args, { stdio: ['ignore', fd, fd], timeoutMs: 20 * 60_000 });
      } finally {
        closeSync(fd);
      }
    };
    if (!existsSync(PY) && (await viaLog(python, ['-m', 'venv', VENV])) !== 0) throw new Error(`python3 -m venv failed${tailOf(logFile)}`);
    const pip = [PY, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-c', CONSTRAINTS, ...REQS]];
    if ((await viaLog(...pip)) !== 0) throw new Error(`pip install ${REQS[0]} failed${tailOf(logFile)}`);
    writeFileSync(stampFile, want);
    log(`LocalStack installed in ${Math.round((Date.now() - started) / 1000)} s`);
  });
}

async function healthyLocalStack(endpoint) {
  const { body } = await httpGet(`${endpoint}/_localstack/health`);
  return ['available', 'running'].includes(JSON.parse(body)?.services?.ec2);
}

async function startLocalStack(sup, { port, fsRoot, logDir }) {
  await ensureLocalStack(logDir);
  mkdirSync(fsRoot, { recursive: true });
  const endpoint = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    SERVICES: 'ec2',
    EAGER_SERVICE_LOADING: '1', // load ec2 now, not on the first request
    // The default (twisted) server ignores GATEWAY_LISTEN's host and binds
    // 0.0.0.0; hypercorn honours 127.0.0.1.
    GATEWAY_SERVER: 'hypercorn',
    GATEWAY_LISTEN: `127.0.0.1:${port}`,
    DNS_ADDRESS: '0', // no DNS server (it would want port 53)
    SKIP_SSL_CERT_DOWNLOAD: '1',
    DISABLE_EVENTS: '1', // no analytics calls home
    OVERRIDE_IN_DOCKER: '0',
    // Host mode would otherwise use /var/lib/localstack and /tmp/localstack;
    // FILESYSTEM_ROOT relocates every one of its directories.
    FILESYSTEM_ROOT: fsRoot,
    LOCALSTACK_VOLUME_DIR: join(fsRoot, 'volume'),
    PERSISTENCE: '0',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
  const started = Date.now();
  const proc = sup.start('localstack', PY, ['-m', 'localstack.runtime.main'], { env, echo: false });
  await waitFor('LocalStack', () => healthyLocalStack(endpoint), { timeoutMs: 120_000, intervalMs: 500, alive: proc.alive, logFile: proc.logFile });
  log(`LocalStack ${LOCALSTACK_VERSION} (EC2) up on ${endpoint} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { endpoint, kind: `LocalStack ${LOCALSTACK_VERSION}`, proc };
}

async function startMoto(sup, { port }) {
  const moto = which('moto_server');
  if (!moto) throw new Error('moto_server not found either (pip install "moto[server]==5.2.1")');
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = sup.start('moto', moto, ['-H', '127.0.0.1', '-p', String(port)], { echo: false });
  await waitFor('moto_server', async () => (await httpGet(`${endpoint}/moto-api/`)).status === 200, {
    timeoutMs: 60_000,
    alive: proc.alive,
    logFile: proc.logFile,
  });
  return { endpoint, kind: 'moto_server (FALLBACK, not LocalStack)', proc };
}

/**
 * Returns { endpoint, kind, external }. PLINTH_EC2_EMULATOR=moto skips
 * LocalStack on purpose (still with the warning).
 */
export async function startEc2(sup, { port, portOptional = false, fsRoot, logDir }) {
  if (process.env.EC2_ENDPOINT) {
    log(`using EC2_ENDPOINT from the environment: ${process.env.EC2_ENDPOINT}`);
    return { endpoint: process.env.EC2_ENDPOINT, kind: 'external (EC2_ENDPOINT)', external: true };
  }
  if (await portInUse(port)) {
    if (!portOptional) throw new Error(`port ${port} is busy; is another stack running? (set EC2_ENDPOINT to use it)`);
    // Throwaway stacks may run side by side (two checkouts, CI next to dev).
    const other = await freePort();
    log(`port ${port} is busy; using ${other} for EC2`);
    port = other;
  }
  let why = 'PLINTH_EC2_EMULATOR=moto';
  if (process.env.PLINTH_EC2_EMULATOR !== 'moto') {
    let attempt;
    try {
      attempt = await startLocalStack(sup, { port, fsRoot, logDir });
      return { ...attempt, external: false };
    } catch (e) {
      why = e.message;
      // A half-started LocalStack must not hold the port moto needs.
      await sup.stopOne('localstack');
    }
  }
  boxed([
    'WARNING: LocalStack is NOT running; falling back to moto_server.',
    'moto is the engine inside LocalStack EC2, but this is not the stack CI',
    'is meant to use. Reason:',
    // The first line says what failed; the end of the log tail says why.
    ...((l) => (l.length > 11 ? [l[0], ...l.slice(-10)] : l))(why.split('\n')),
  ]);
  const moto = await startMoto(sup, { port });
  return { ...moto, external: false };
}
