/**
 * Conformance: csi-sanity against the real controller and node agent, on the
 * stack in the environment (REDIS_URL, EC2_ENDPOINT, AWS_REGION,
 * PLINTH_TEST_NODE_ID, PLINTH_TEST_ZONE, PLINTH_TEST_INSTANCE_TYPE), with the
 * emulated Nitro host turning attachments into NVMe loop devices.
 *
 *   node --conditions=plinth-src --import tsx test/sanity/run.ts [extra csi-sanity flags, e.g. -ginkgo.focus=…]
 *
 * Runs csi-sanity twice, with mount volumes and then raw block volumes; prints
 * both summaries, writes the JUnit reports to test-results/csi-sanity.xml and
 * csi-sanity-block.xml (the output and the processes' logs beside them), exits
 * non-zero if either failed, and always tears down: csi-sanity, node agent,
 * controller, mounts under the kubelet root, the volumes this run created in
 * EC2, loop devices, the fake host tree and its Redis database.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { startController, type ControllerProcess } from '../support/controller.js';
import { ec2Of, flushRedis, freshRedis } from '../support/ec2.js';
import { createFakeHost, mountsUnder, type FakeHost } from '../support/nvme.js';
import { requireStack } from '../support/stack.js';
import { startNitro, type NitroHost } from '../nitro/emulator.js';
import { ensureCsiSanity } from './csi-sanity.js';
import { startNodeAgent, type NodeAgentProcess } from './node-agent.js';
import { deleteClusterSnapshots, deleteClusterVolumes } from './volumes.js';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'test-results');
const JUNIT = join(RESULTS, 'csi-sanity.xml');
const PARAMS = join(import.meta.dirname, 'params.yaml');
/** Redis database of this tier (the integration tests use 1–10). */
const REDIS_DB = 12;
/** Small, so the attach-limit spec (ControllerPublish beyond NodeGetInfo's max_volumes_per_node) stays quick. */
const MAX_VOLUMES_PER_NODE = 4;
const GiB = 1024 ** 3;

const log = (m: string): void => console.log(`[sanity] ${m}`);

/** Whether a failed csi-sanity run failed only on connecting (one failure, in a BeforeEach, "Connection timed out"). */
function onlyConnectRace(output: string): boolean {
  const fails = output.split('\n').filter((l) => /^\s*\[FAIL\]/.test(l));
  return (
    /FAIL! -- \d+ Passed \| 1 Failed/.test(output) &&
    output.includes('Connection timed out') &&
    fails.length > 0 &&
    fails.every((l) => l.includes('[BeforeEach]'))
  );
}

/** Runs csi-sanity with output passed through; resolves with its exit code and the summary lines. */
function runCsiSanity(bin: string, args: string[], onChild: (c: ChildProcess) => void): Promise<{ code: number; summary: string[]; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    onChild(child);
    let output = '';
    const pass = (d: Buffer, to: NodeJS.WriteStream): void => {
      output += d.toString();
      to.write(d);
    };
    child.stdout.on('data', (d: Buffer) => pass(d, process.stdout));
    child.stderr.on('data', (d: Buffer) => pass(d, process.stderr));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const summary = output.split('\n').filter((l) => /^Ran \d+ of \d+ Specs/.test(l) || /^(SUCCESS|FAIL)! -- /.test(l));
      resolve({ code: code ?? (signal ? 128 : 1), summary, output });
    });
  });
}

async function unmountAll(root: string): Promise<string[]> {
  const points = await mountsUnder(root);
  for (const p of points) {
    await exec('umount', [p], { timeout: 30_000 }).catch(() => exec('umount', ['-l', p], { timeout: 30_000 }).catch(() => undefined));
  }
  return points;
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const stack = requireStack();
  const bin = await ensureCsiSanity(log);
  await mkdir(RESULTS, { recursive: true });
  await rm(JUNIT, { force: true });
  await rm(JUNIT.replace(/\.xml$/, '-block.xml'), { force: true });

  const ec2 = ec2Of(stack);
  const clusterId = `sanity-${Date.now().toString(36)}`;
  const runDir = await mkdtemp(join(tmpdir(), 'plinth-sanity-'));
  let host: FakeHost | undefined;
  let nitro: NitroHost | undefined;
  let controller: ControllerProcess | undefined;
  let node: NodeAgentProcess | undefined;
  let sanity: ChildProcess | undefined;
  let redisUrl: string | undefined;
  let code = 1;
  const summaries: string[] = [];

  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: stopping csi-sanity and tearing down`);
    sanity?.kill('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    host = await createFakeHost();
    nitro = await startNitro({ ec2, instanceId: stack.nodeId, host, dataDir: join(host.root, 'volumes'), pollMs: 100, log: (m) => log(`nitro: ${m}`) });
    redisUrl = await freshRedis(stack.redisUrl, REDIS_DB);
    const base = { REDIS_URL: redisUrl, EC2_ENDPOINT: stack.ec2Endpoint, AWS_REGION: stack.region };
    controller = await startController({ ...base, PLINTH_CLUSTER_ID: clusterId, DEFAULT_ZONE: stack.zone, EC2_POLL_INTERVAL_MS: '100' });
    node = await startNodeAgent(`unix://${join(runDir, 'node.sock')}`, {
      ...base,
      NODE_ID: stack.nodeId,
      NODE_ZONE: stack.zone,
      NODE_INSTANCE_TYPE: stack.instanceType,
      IMDS_DISABLED: 'true',
      METADATA_SOURCES: 'env',
      SYSFS_ROOT: host.sysRoot,
      DEV_ROOT: host.devRoot,
      KUBELET_ROOT: host.kubeletRoot,
      MAX_VOLUMES_PER_NODE: String(MAX_VOLUMES_PER_NODE),
      HEARTBEAT_INTERVAL_MS: '1000',
    });
    log(`controller ${controller.endpoint}, node agent ${node.endpoint}, kubelet root ${host.kubeletRoot}, cluster id ${clusterId}`);

    // Two passes: every spec with mount volumes (ext4 through stage + bind), then with raw block volumes.
    const failed: string[] = [];
    for (const accessType of ['mount', 'block'] as const) {
      if (interrupted) break;
      const junit = accessType === 'mount' ? JUNIT : JUNIT.replace(/\.xml$/, '-block.xml');
      const args = [
        `--csi.endpoint=${node.endpoint}`,
        `--csi.controllerendpoint=${controller.endpoint}`,
        `--csi.stagingdir=${join(host.kubeletRoot, 'csi-staging')}`,
        `--csi.mountdir=${join(host.kubeletRoot, 'csi-mount')}`,
        `--csi.testvolumeaccesstype=${accessType}`,
        `--csi.testvolumesize=${1 * GiB}`,
        `--csi.testvolumeexpandsize=${2 * GiB}`,
        `--csi.testvolumeparameters=${PARAMS}`,
        `--csi.testsnapshotparameters=${join(import.meta.dirname, 'snapshot-params.yaml')}`,
        `--csi.testvolumemutableparameters=${join(import.meta.dirname, 'mutable-params.yaml')}`,
        '--csi.testnodevolumeattachlimit',
        `--csi.junitfile=${junit}`,
        '-ginkgo.no-color',
        '-ginkgo.timeout=30m',
        ...process.argv.slice(2),
      ];
      log(`csi-sanity, ${accessType} volumes: ${bin} ${args.join(' ')}`);
      let res = await runCsiSanity(bin, args, (c) => (sanity = c));
      if (res.code !== 0 && !interrupted && onlyConnectRace(res.output)) {
        // csi-test v5.4.0's utils.Connect waits for a state change *after* reading the state, so a connection that
        // turns READY in between is never seen and it gives up after 60 s, failing the first spec's BeforeEach.
        // That is csi-sanity's flake, not the driver's: run the pass once more, and say so.
        log(
          `csi-sanity, ${accessType} volumes: the only failure is csi-test's own connect race ("Connection timed out" before any RPC); running the pass again`,
        );
        summaries.push(`${accessType}: first attempt hit csi-test's connect race (${res.summary.join(' ') || 'no summary'}); rerun below`);
        res = await runCsiSanity(bin, args, (c) => (sanity = c));
      }
      sanity = undefined;
      await writeFile(junit.replace(/\.xml$/, '.log'), res.output);
      summaries.push(...(res.summary.length > 0 ? res.summary : [`printed no summary (exit ${res.code})`]).map((l) => `${accessType}: ${l}`));
      if (res.code !== 0) failed.push(accessType);
    }
    code = failed.length > 0 || interrupted ? 1 : 0;
  } catch (err) {
    console.error(`[sanity] ${(err as Error).stack ?? String(err)}`);
    code = 1;
  } finally {
    const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        console.error(`[sanity] teardown: ${name}: ${(err as Error).message}`);
        code ||= 1;
      }
    };
    await step('csi-sanity', () => Promise.resolve(sanity?.kill('SIGKILL')));
    await step('node agent', async () => {
      if (!node) return;
      await node.stop();
      await writeFile(join(RESULTS, 'csi-sanity-node-agent.log'), node.output());
    });
    await step('controller', async () => {
      if (!controller) return;
      const c = controller;
      const killer = setTimeout(() => void c.kill(), 15_000);
      await c.stop();
      clearTimeout(killer);
      await writeFile(join(RESULTS, 'csi-sanity-controller.log'), c.output());
      await rm(dirname(c.endpoint.replace('unix://', '')), { recursive: true, force: true });
    });
    await step('mounts', async () => {
      if (!host) return;
      const left = await unmountAll(host.root);
      if (left.length > 0) log(`unmounted ${left.length} mount(s) left under ${host.root}`);
    });
    await step('volumes', async () => {
      const left = await deleteClusterVolumes(ec2, clusterId);
      if (left.length > 0) log(`deleted ${left.length} volume(s) left in EC2: ${left.join(', ')}`);
    });
    await step('EC2 snapshots', async () => {
      const left = await deleteClusterSnapshots(ec2, clusterId);
      if (left.length > 0) log(`deleted ${left.length} snapshot(s) left in EC2: ${left.join(', ')}`);
    });
    await step('nitro host', async () => {
      if (!nitro) return;
      await nitro.sync();
      await nitro.stop({ purge: true });
    });
    await step('fake host', async () => host?.cleanup());
    await step('redis', async () => {
      if (redisUrl) await flushRedis(redisUrl);
    });
    await step('run dir', () => rm(runDir, { recursive: true, force: true }));
    ec2.destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  console.log('');
  for (const l of summaries) log(`csi-sanity ${l}`);
  log(`wall time ${((Date.now() - t0) / 1000).toFixed(1)} s; JUnit reports ${JUNIT} (mount), ${JUNIT.replace(/\.xml$/, '-block.xml')} (block)`);
  return interrupted ? 130 : code;
}

process.exitCode = await main();
// A stray handle must not keep a finished run alive.
setTimeout(() => process.exit(), 5000).unref();
