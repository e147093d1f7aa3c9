#!/usr/bin/env node
// One entry point for people and CI:
//   node scripts/run.mjs dev          local stack + the apps (npm run dev)
//   node scripts/run.mjs test         everything CI runs (npm test, .ci/run)
//   node scripts/run.mjs integration  throwaway stack + integration tier only
//   node scripts/run.mjs stack        throwaway stack, prints `export` lines
//   node scripts/run.mjs sanity|bench|chaos|soak [args]   one stand-alone tier on a throwaway stack
//   node scripts/run.mjs e2e:k8s [args]  builds (once, cached) a Kubernetes control plane, a node (kubelet,
//                                        containerd) and the CSI sidecars, then the end-to-end flows through it with
//                                        Pods on a throwaway stack (test/k8s/)
// Node builtins only at import time: node_modules may not exist yet.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDeps, ensureSystemPackages } from './lib/deps.mjs';
import { ensureNode, rerunUnder } from './lib/node-runtime.mjs';
import { Supervisor } from './lib/supervisor.mjs';
import { ROOT, log, maskUrl, run } from './lib/util.mjs';

const PLINTH = join(ROOT, '.plinth');
const LOG_DIR = join(PLINTH, 'logs');
const RUN_DIR = join(PLINTH, 'run');

// `--` keeps npx from reading the tool's flags (tsc -p is npx's --package).
const npx = (...args) => ['npx', '--no', '--', ...args];
const vitest = (project, ...extra) => npx('vitest', 'run', '--project', project, ...extra);

// The tiers of `npm test`, in order. `stack: true` tiers run with the
// throwaway stack up and its env exported (after every tier without it).
// `report: true` tiers write vitest-style counts to $PLINTH_TIER_REPORT.
const tsx = (file, ...args) => ['node', '--conditions=plinth-src', '--import', 'tsx', file, ...args];
// The one bundling step (scripts/bundle.mjs): the bundles the images run. Tiers marked `bundles: true` start the
// apps from them (PLINTH_BUNDLES), so sanity, the e2e, bench and chaos measure the form that ships.
const BUNDLES = join(PLINTH, 'bundles');
const BUNDLE = { name: 'bundle', cmd: ['node', 'scripts/bundle.mjs', '--outdir', BUNDLES] };
const TIERS = [
  // typescript-eslint with type-aware rules, the formatter (prettier --check) and no dead exports or files (knip).
  { name: 'lint', cmd: ['npm', 'run', '--silent', 'lint'] },
  { name: 'typecheck', cmd: npx('tsc', '-p', 'tsconfig.json', '--noEmit') },
  { name: 'unit', cmd: vitest('unit'), vitest: true },
  { name: 'integration', stack: true, cmd: vitest('integration'), vitest: true },
  // Builds the control plane, kube-scheduler, kubelet, containerd and the chart's CSI sidecars (infra/versions.json)
  // into ~/.cache/plinth/k8s/bin/<name>@<version> (0.1 s cached), helm, and apt-installs the node's runc,
  // busybox-static and CNI plugins; before the stack comes up, so it does not idle during a cold build.
  // Its own bound: a cold build on a busy 2-core machine can pass the 30 min every other tier gets.
  { name: 'k8s-build', cmd: tsx('test/k8s/build.ts'), timeoutMs: 60 * 60_000 },
  BUNDLE,
  { name: 'sanity', stack: true, bundles: true, cmd: tsx('test/sanity/run.ts') },
  { name: 'e2e-k8s', stack: true, bundles: true, cmd: tsx('test/k8s/run.ts'), report: true },
  { name: 'bench-quick', stack: true, bundles: true, cmd: tsx('test/bench/lifecycles.ts', '--quick') },
  { name: 'chaos-quick', stack: true, bundles: true, cmd: tsx('test/chaos/run.ts', '--quick') },
];

// Stand-alone tiers: `npm run sanity`, `npm run bench`, `npm run chaos` (full sizes), `npm run e2e:k8s`.
const ALONE = {
  sanity: [BUNDLE, TIERS.find((t) => t.name === 'sanity')],
  'e2e:k8s': [
    TIERS.find((t) => t.name === 'k8s-build'),
    BUNDLE,
    { name: 'e2e-k8s', stack: true, bundles: true, cmd: tsx('test/k8s/run.ts', ...process.argv.slice(3)), report: true },
  ],
  bench: [
    BUNDLE,
    { name: 'bench', stack: true, bundles: true, cmd: tsx('test/bench/lifecycles.ts', ...process.argv.slice(3)) },
    { name: 'bench-node', bundles: true, cmd: ['npm', 'run', 'bench', '-w', '@plinth/node-agent'] },
  ],
  chaos: [BUNDLE, { name: 'chaos', stack: true, bundles: true, cmd: tsx('test/chaos/run.ts', ...process.argv.slice(3)) }],
  // Not in `npm test`: even a short soak says little, and the tiers already take long on 2 cores.
  // Its bound is the run's own length plus 15 min (start-up, the audit): the 30 min every other tier gets would
  // kill a 30-minute soak just before its verdict.
  soak: [
    BUNDLE,
    { name: 'soak', stack: true, bundles: true, cmd: tsx('test/soak/run.ts', ...process.argv.slice(3)), timeoutMs: (soakMinutes() + 15) * 60_000 },
  ],
};

/** The soak's `--minutes` (its default 30 when not given). */
function soakMinutes() {
  const argv = process.argv.slice(3);
  const i = argv.findIndex((a) => a === '--minutes' || a.startsWith('--minutes='));
  const v = i < 0 ? 30 : Number(argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1]);
  return Number.isFinite(v) && v > 0 ? v : 30;
}

// What `dev` starts when the entry file exists. Env on top of the stack's.
const APPS = [
  {
    name: 'controller',
    entry: 'apps/controller/src/main.ts',
    env: () => ({ CSI_ENDPOINT: `unix://${join(RUN_DIR, 'controller.sock')}`, PLINTH_CLUSTER_ID: 'plinth-dev', METRICS_ADDRESS: '127.0.0.1:9808' }),
  },
  {
    name: 'node-agent',
    entry: 'apps/node-agent/src/main.ts',
    env: ({ node }) => ({
      CSI_ENDPOINT: `unix://${join(RUN_DIR, 'node.sock')}`,
      NODE_ID: node.instanceId,
      NODE_ZONE: node.zone,
      NODE_INSTANCE_TYPE: node.instanceType,
      KUBELET_ROOT: join(PLINTH, 'kubelet'),
      // The seeded instance is "this node": never ask a real IMDS (a dev box
      // on EC2 would answer with its own, unknown-to-the-emulator id).
      METADATA_SOURCES: 'env',
      METRICS_ADDRESS: '127.0.0.1:9809',
    }),
  },
  { name: 'api', entry: 'apps/api/src/main.ts', env: () => ({ API_ADDRESS: '127.0.0.1:8080', PLINTH_CLUSTER_ID: 'plinth-dev' }) },
];

/** Env every app gets from the stack (not the PLINTH_TEST_* ones). */
const appBaseEnv = (env) => ({
  REDIS_URL: env.REDIS_URL,
  EC2_ENDPOINT: env.EC2_ENDPOINT,
  AWS_REGION: env.AWS_REGION,
  AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
});

/** Ctrl-C / SIGTERM: run `onStop` once; a second signal kills at once. */
function onSignals(sup, onStop) {
  let count = 0;
  const handle = (sig) => {
    if (++count > 1) {
      sup.killAll();
      process.exit(130);
    }
    console.log(`\n[plinth] ${sig}: stopping…`);
    void onStop(sig);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => handle(sig));
  // `npm run` puts `sh -c` between npm and us, and sh does not pass a
  // SIGTERM on. When our parent dies we are re-parented: treat that as SIGTERM
  // so the stack is not left behind.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && count === 0) handle('SIGTERM (parent exited)');
  }, 1000).unref();
}

async function bringUpStack(sup, mode) {
  const { startStack } = await import('./lib/stack.mjs');
  return startStack(sup, { mode, logDir: LOG_DIR });
}

function exportLines(env) {
  return Object.entries(env).map(([k, v]) =>
    // A REDIS_URL with a password came from the user's own environment;
    // never echo the secret, tell them to keep theirs.
    k === 'REDIS_URL' && v !== maskUrl(v) ? `# REDIS_URL: keep your own (${maskUrl(v)})` : `export ${k}=${v}`,
  );
}

async function dev() {
  mkdirSync(RUN_DIR, { recursive: true });
  mkdirSync(join(PLINTH, 'kubelet'), { recursive: true });
  const sup = new Supervisor({ logDir: LOG_DIR, pidFile: join(RUN_DIR, `dev-${process.pid}.pids.json`) });
  let stack;
  const stop = async () => {
    await sup.stop();
    stack?.cleanup();
    log('stopped cleanly');
    process.exit(0);
  };
  onSignals(sup, stop);
  try {
    stack = await bringUpStack(sup, 'dev');
  } catch (e) {
    await sup.stop();
    e.cleanup?.();
    throw e;
  }
  const { env, info } = stack;
  const started = [];
  for (const app of APPS) {
    if (!existsSync(join(ROOT, app.entry))) {
      log(`${app.name}: ${app.entry} does not exist yet; not started`);
      continue;
    }
    const appEnv = { ...process.env, ...appBaseEnv(env), ...app.env(info) };
    if (appEnv.CSI_ENDPOINT) rmSync(appEnv.CSI_ENDPOINT.replace('unix://', ''), { force: true }); // stale socket from a crash
    sup.start(app.name, process.execPath, ['--conditions=plinth-src', '--import', 'tsx', app.entry], { env: appEnv, cwd: ROOT });
    started.push({ ...app, appEnv });
  }
  const lines = [
    '',
    '================ Plinth dev stack is up ================',
    `Redis          ${maskUrl(env.REDIS_URL)}${info.redis.external ? ' (yours, from REDIS_URL)' : ` (AOF in ${join(PLINTH, 'redis')})`}`,
    `EC2 endpoint   ${env.EC2_ENDPOINT}  [${info.ec2.kind}]`,
    `This node      ${info.node.instanceId}  ${info.node.zone}  ${info.node.instanceType}`,
    ...started.map((a) => {
      const where = [
        a.appEnv.CSI_ENDPOINT && `csi ${a.appEnv.CSI_ENDPOINT}`,
        a.appEnv.METRICS_ADDRESS && `metrics http://${a.appEnv.METRICS_ADDRESS}/metrics`,
        a.appEnv.API_ADDRESS && `http://${a.appEnv.API_ADDRESS}`,
      ];
      return `${a.name.padEnd(14)} ${where.filter(Boolean).join('  ')}`;
    }),
    started.length === 0 ? 'Apps           none yet (no apps/*/src/main.ts)' : null,
    '',
    'Try it (in another shell):',
    ...exportLines(appBaseEnv(env)).map((l) => `  ${l}`),
    `  export CSI_ENDPOINT=unix://${join(RUN_DIR, 'controller.sock')}`,
    '  npm run plinthctl -- --help',
    '',
    `Logs           ${LOG_DIR}/<name>.log`,
    'Ctrl-C to stop.',
    '========================================================',
    '',
  ];
  console.log(lines.filter((l) => l !== null).join('\n'));
  await new Promise(() => setInterval(() => {}, 1 << 30)); // until a signal
}

async function stackOnly() {
  const sup = new Supervisor({ logDir: LOG_DIR, pidFile: join(RUN_DIR, `stack-${process.pid}.pids.json`), logPrefix: `stack-${process.pid}-` });
  let stack;
  onSignals(sup, async () => {
    await sup.stop();
    stack?.cleanup();
    process.exit(0);
  });
  try {
    stack = await bringUpStack(sup, 'test');
  } catch (e) {
    await sup.stop();
    e.cleanup?.();
    throw e;
  }
  console.log(
    [
      '',
      `# Stack is up (EC2: ${stack.info.ec2.kind}; logs: ${LOG_DIR}/stack-${process.pid}-*.log). In another shell:`,
      ...exportLines(stack.env),
      `# then e.g. npx vitest run --project integration`,
      '# Ctrl-C here to stop.',
      '',
    ].join('\n'),
  );
  await new Promise(() => setInterval(() => {}, 1 << 30)); // until a signal
}

/** Runs tiers (all of them, even after a failure) and prints a summary. */
async function runTiers(tiers) {
  mkdirSync(RUN_DIR, { recursive: true });
  const results = [];
  const reports = mkdtempSync(join(tmpdir(), 'plinth-reports-'));
  const sup = new Supervisor({ logDir: LOG_DIR, pidFile: join(RUN_DIR, `test-${process.pid}.pids.json`), logPrefix: `test-${process.pid}-` });
  let stack = null;
  let current = null;
  let interrupted = false;
  onSignals(sup, (sig) => {
    interrupted = true;
    // A terminal Ctrl-C reaches the tier too; a bare SIGTERM (CI timeout) doesn't.
    if (sig !== 'SIGINT') current?.kill('SIGTERM');
  });

  const timed = async (name, fn) => {
    const t0 = Date.now();
    let ok = false;
    let counts = null;
    try {
      ({ ok, counts } = await fn());
    } catch (e) {
      console.error(`[plinth] ${name}: ${e.message}`);
    }
    results.push({ name, ok, secs: (Date.now() - t0) / 1000, counts });
    return ok;
  };

  const runTier = (tier, extraEnv) =>
    timed(tier.name, async () => {
      console.log(`\n[plinth] ── ${tier.name}: ${tier.cmd.join(' ')}`);
      const report = join(reports, `${tier.name}.json`);
      const cmd = tier.vitest ? [...tier.cmd, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`] : tier.cmd;
      const env = {
        ...process.env,
        ...(tier.report ? { PLINTH_TIER_REPORT: report } : {}),
        ...(tier.bundles ? { PLINTH_BUNDLES: BUNDLES } : {}),
        ...extraEnv,
      };
      const code = await run(cmd[0], cmd.slice(1), { env, onChild: (c) => (current = c), ...(tier.timeoutMs ? { timeoutMs: tier.timeoutMs } : {}) });
      current = null;
      return { ok: code === 0, counts: tier.vitest || tier.report ? readCounts(report) : null };
    });

  try {
    for (const tier of tiers.filter((t) => !t.stack)) if (!interrupted) await runTier(tier, {});
    const stackTiers = tiers.filter((t) => t.stack);
    if (stackTiers.length && !interrupted) {
      const up = await timed('stack', async () => {
        try {
          stack = await bringUpStack(sup, 'test');
        } catch (e) {
          e.cleanup?.();
          throw e;
        }
        return { ok: true };
      });
      for (const tier of stackTiers) {
        if (interrupted) break;
        if (up) await runTier(tier, stack.env);
        else results.push({ name: tier.name, ok: false, secs: 0, counts: null, note: 'not run: stack failed' });
      }
    }
  } finally {
    await sup.stop();
    stack?.cleanup();
    rmSync(reports, { recursive: true, force: true });
  }
  return summarize(results, interrupted);
}

function readCounts(file) {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    // A file that fails to load has no tests to fail; count it as one failure
    // so a broken suite never reads as "0 failed".
    const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
    return { passed: r.numPassedTests ?? 0, failed: (r.numFailedTests ?? 0) + brokenFiles, skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0) };
  } catch {
    return null;
  }
}

function summarize(results, interrupted) {
  const failed = results.filter((r) => !r.ok);
  const total = { passed: 0, failed: 0, skipped: 0 };
  console.log('\n──────── summary ────────');
  for (const r of results) {
    const c = r.counts;
    if (c) for (const k of Object.keys(total)) total[k] += c[k];
    const detail = c ? `  (${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''})` : r.note ? `  (${r.note})` : '';
    console.log(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(12)} ${r.secs.toFixed(1).padStart(6)} s${detail}`);
  }
  if (interrupted) console.log('  interrupted');
  console.log(failed.length ? `FAILED: ${failed.map((r) => r.name).join(', ')}` : 'all tiers passed');
  console.log(`tests: ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  return failed.length || interrupted ? 1 : 0;
}

const modes = {
  dev,
  stack: stackOnly,
  test: () => runTiers(TIERS),
  integration: () => runTiers(TIERS.filter((t) => t.name === 'integration')),
  sanity: () => runTiers(ALONE.sanity),
  bench: () => runTiers(ALONE.bench),
  chaos: () => runTiers(ALONE.chaos),
  soak: () => runTiers(ALONE.soak),
  'e2e:k8s': () => runTiers(ALONE['e2e:k8s']),
};

const mode = process.argv[2];
if (!modes[mode]) {
  console.error(`usage: node scripts/run.mjs <${Object.keys(modes).join('|')}>`);
  process.exit(2);
}
// Node 24 LTS (.node-version) for everything: an older host Node brings it and hands over to it.
const node = await ensureNode().catch((e) => {
  console.error(`[plinth] ${e.message}`);
  process.exit(1);
});
if (node) process.exit(await rerunUnder(node));
try {
  await ensureDeps();
  await ensureSystemPackages();
  process.exitCode = (await modes[mode]()) ?? 0;
} catch (e) {
  console.error(`[plinth] ${mode} failed: ${e.message}`);
  process.exitCode = 1;
}
