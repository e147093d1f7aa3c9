/**
 * A real node on this machine for the e2e: containerd (v2, built from the module proxy) with Debian's runc,
 * the Pod images made locally (./images.ts) and imported with ctr, kube-scheduler and a kubelet built from the
 * same Kubernetes release as the control plane. Pods run with the host's network (hostNetwork: true): a CNI
 * config (Debian's bridge plugin) is present only so the runtime reports its network ready; no Pod uses it, so
 * no interface or iptables rule is ever made.
 *
 * Everything lives under the run's directory: containerd's root and state, the kubelet's root dir (where the
 * CSI plugin socket and the plugin-registration dir are), the scheduler's serving cert. `stop()` leaves no
 * process (containerd shims included), mount or directory behind.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { mountsUnder } from '../support/nvme.js';
import { buildImages, IMAGES } from './images.js';
import { waitFor, type Kube } from './kube.js';
import { assertRunning, freePort, startProc, type Proc } from './procs.js';

const exec = promisify(execFile);

export interface NodeOptions {
  /** The run's scratch directory. */
  dir: string;
  logDir: string;
  bin: (name: string) => string;
  kube: Kube;
  /** The admin kubeconfig (the kubelet and the scheduler use it; see docs/kubernetes.md). */
  kubeconfig: string;
  nodeName: string;
  /** The kubelet's root dir (the node agent's KUBELET_ROOT). */
  kubeletRoot: string;
  /** Labels the kubelet registers the Node with. */
  labels: Record<string, string>;
  /** Taints the kubelet registers the Node with, as key=value:effect or key:effect. */
  taints: string[];
  providerId: string;
  log: (m: string) => void;
}

export interface RealNode {
  containerdSocket: string;
  procs: Proc[];
  ctr(args: string[]): Promise<string>;
  check(): void;
  /** Stops the kubelet, the scheduler and containerd, then kills what is left of this run's containers. */
  stop(): Promise<void>;
  /** Undoes the kubelet's bind mount of its root dir (after stop() and after the node plugin stopped). */
  releaseKubeletRoot(): Promise<void>;
}

const RUNC = process.env.PLINTH_E2E_RUNC ?? '/usr/sbin/runc';
const CNI_BIN = '/usr/lib/cni';

export async function startNode(o: NodeOptions): Promise<RealNode> {
  const procs: Proc[] = [];
  const socket = containerdSocket(o.dir);
  await mkdir(o.kubeletRoot, { recursive: true });
  const ctr = ctrOf(o.bin, socket);

  const stop = async (): Promise<void> => {
    for (const p of [...procs].reverse()) await p.stop(10_000);
    await killShims(socket, o.log);
    for (const m of (await mountsUnder(o.dir)).reverse()) await exec('umount', ['-l', m]).catch(() => undefined);
  };
  // The kubelet bind-mounts its root dir onto itself (to make it shared). That one mount is the kubelet's, not the
  // driver's: undone without -l, so a staging or publish mount the driver left under it stays visible to the
  // teardown check (umount fails while the root has mounts of its own). Call it once the node plugin and its
  // registrar are stopped too: their sockets live under the root and keep it busy.
  const releaseKubeletRoot = async (): Promise<void> => {
    if ((await mountsUnder(o.kubeletRoot)).includes(o.kubeletRoot))
      await exec('umount', [o.kubeletRoot]).catch((e: Error) => o.log(`kubelet root: ${e.message.split('\n').join(' ')}`));
  };
  try {
    const runtime = await startContainerd({ dir: o.dir, logDir: o.logDir, bin: o.bin, log: o.log });
    procs.push(runtime.proc);
    const env = runtime.env;

    // kube-scheduler.
    const schedPort = await freePort();
    procs.push(
      startProc(
        'kube-scheduler',
        o.bin('kube-scheduler'),
        [
          `--kubeconfig=${o.kubeconfig}`,
          `--authentication-kubeconfig=${o.kubeconfig}`,
          `--authorization-kubeconfig=${o.kubeconfig}`,
          '--leader-elect=false',
          '--bind-address=127.0.0.1',
          `--secure-port=${schedPort}`,
          `--cert-dir=${join(o.dir, 'scheduler-certs')}`,
          '--v=2',
        ],
        { logDir: o.logDir, env },
      ),
    );

    // The kubelet.
    const kubeletPort = await freePort();
    const kubeletConfig = join(o.dir, 'kubelet-config.yaml');
    await writeFile(
      kubeletConfig,
      JSON.stringify({
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        // This machine's cgroups are v1 (hybrid); Kubernetes ≥ 1.35 refuses them unless told otherwise.
        failCgroupV1: false,
        cgroupDriver: 'cgroupfs',
        containerRuntimeEndpoint: `unix://${socket}`,
        address: '127.0.0.1',
        port: kubeletPort,
        readOnlyPort: 0,
        healthzPort: 0,
        authentication: { anonymous: { enabled: false }, webhook: { enabled: false } },
        authorization: { mode: 'AlwaysAllow' },
        failSwapOn: false,
        providerID: o.providerId,
        registerWithTaints: o.taints.map((s) => {
          const m = /^([^=:]+)(?:=([^:]*))?:(\w+)$/.exec(s);
          if (!m) throw new Error(`bad taint ${s}`);
          return { key: m[1], ...(m[2] ? { value: m[2] } : {}), effect: m[3] };
        }),
        nodeStatusUpdateFrequency: '4s',
        syncFrequency: '10s',
        fileCheckFrequency: '5s',
        serializeImagePulls: false,
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
        evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
        localStorageCapacityIsolation: false,
        resolvConf: '/etc/resolv.conf',
        // Container logs in the run's dir, not /var/log/pods.
        podLogsDir: join(o.dir, 'pod-logs'),
        maxPods: 30,
      }),
    );
    procs.push(
      startProc(
        'kubelet',
        o.bin('kubelet'),
        [
          `--config=${kubeletConfig}`,
          `--kubeconfig=${o.kubeconfig}`,
          `--root-dir=${o.kubeletRoot}`,
          `--cert-dir=${join(o.dir, 'kubelet-pki')}`,
          `--hostname-override=${o.nodeName}`,
          '--node-ip=127.0.0.1',
          `--node-labels=${Object.entries(o.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')}`,
          // No QoS cgroup tree on this machine's cgroup v1 hierarchy (the Pods' cgroups are runc's own).
          '--cgroups-per-qos=false',
          '--enforce-node-allocatable=',
          '--v=2',
        ],
        { logDir: o.logDir, env },
      ),
    );
    await waitFor(
      `Node ${o.nodeName} Ready`,
      async () => {
        procs.forEach(assertRunning);
        const n = await o.kube.find<{ status?: { conditions?: { type: string; status: string }[] } }>(`/api/v1/nodes/${o.nodeName}`);
        return n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
      },
      {
        timeoutMs: 120_000,
        describe: async () => JSON.stringify((await o.kube.find<{ status?: unknown }>(`/api/v1/nodes/${o.nodeName}`))?.status ?? 'no Node yet'),
      },
    );
    return { containerdSocket: socket, procs, ctr, check: () => procs.forEach(assertRunning), stop, releaseKubeletRoot };
  } catch (e) {
    await stop();
    throw e;
  }
}

const containerdSocket = (dir: string): string => join(dir, 'containerd', 'containerd.sock');
const ctrOf =
  (bin: (name: string) => string, socket: string) =>
  async (args: string[]): Promise<string> =>
    (await exec(bin('ctr'), ['--address', socket, '--namespace', 'k8s.io', ...args], { timeout: 120_000 })).stdout;

/** containerd with CRI (runc, overlayfs, the local sandbox image) and the Pod images imported. */
async function startContainerd(
  o: Pick<NodeOptions, 'dir' | 'logDir' | 'bin' | 'log'>,
): Promise<{ proc: Proc; env: NodeJS.ProcessEnv; ctr: (args: string[]) => Promise<string> }> {
  const cdRoot = join(o.dir, 'containerd');
  const socket = containerdSocket(o.dir);
  const cniConf = join(o.dir, 'cni', 'net.d');
  await mkdir(cniConf, { recursive: true });
  await mkdir(cdRoot, { recursive: true });
  const ctr = ctrOf(o.bin, socket);
  // containerd: CRI with runc, overlayfs, the local sandbox image, CNI config only for the network-ready status.
  await writeFile(
    join(cniConf, '10-plinth-e2e.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'plinth-e2e',
      plugins: [
        {
          type: 'bridge',
          bridge: 'plinth-e2e0',
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.199.0/24' }]], dataDir: join(o.dir, 'cni', 'ipam') },
        },
      ],
    }),
  );
  const config = [
    'version = 3',
    `root = "${join(cdRoot, 'root')}"`,
    `state = "${join(cdRoot, 'state')}"`,
    '[grpc]',
    `  address = "${socket}"`,
    '[ttrpc]',
    `  address = "${socket}.ttrpc"`,
    '[plugins."io.containerd.cri.v1.images"]',
    '  snapshotter = "overlayfs"',
    '  [plugins."io.containerd.cri.v1.images".pinned_images]',
    `    sandbox = "${IMAGES.pause}"`,
    '[plugins."io.containerd.cri.v1.runtime"]',
    // No lowering of oom_score_adj below containerd's own (the pause container asks for -998): that needs
    // CAP_SYS_RESOURCE, which this machine's root lacks (runc: "failed to update /proc/self/oom_score_adj").
    '  restrict_oom_score_adj = true',
    '  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]',
    '    runtime_type = "io.containerd.runc.v2"',
    '    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]',
    `      BinaryName = "${RUNC}"`,
    '      SystemdCgroup = false',
    '  [plugins."io.containerd.cri.v1.runtime".cni]',
    `    bin_dirs = ["${CNI_BIN}"]`,
    `    conf_dir = "${cniConf}"`,
    '',
  ].join('\n');
  const configFile = join(cdRoot, 'config.toml');
  await writeFile(configFile, config);
  const env = {
    PATH: [dirname(o.bin('containerd')), dirname(o.bin('containerd-shim-runc-v2')), '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':'),
    HOME: process.env.HOME ?? '/root',
  };
  const containerd = startProc('containerd', o.bin('containerd'), ['--config', configFile, '--log-level', 'info'], { logDir: o.logDir, env });
  try {
    await importImages();
  } catch (e) {
    await containerd.stop();
    throw e;
  }
  return { proc: containerd, env, ctr };

  async function importImages(): Promise<void> {
    await waitFor(
      'containerd answers',
      async () => {
        assertRunning(containerd);
        return (await ctr(['version']).catch(() => undefined)) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    const t = Date.now();
    const tars = await buildImages(join(o.dir, 'images'));
    for (const tar of Object.values(tars)) await ctr(['images', 'import', '--snapshotter', 'overlayfs', tar]);
    o.log(`containerd up; imported ${Object.values(IMAGES).join(', ')} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
}

/** containerd-shim-runc-v2 processes started for this containerd (they outlive it by design): killed by pid. */
async function killShims(socket: string, log: (m: string) => void): Promise<void> {
  for (const pid of await shimPids(socket)) {
    try {
      process.kill(pid, 'SIGKILL');
      log(`killed containerd shim ${pid}`);
    } catch {
      // gone already
    }
  }
}

/** Pids of processes whose command line names this run's containerd socket (shims) — for the teardown check too. */
export async function shimPids(socket: string): Promise<number[]> {
  const pids: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(socket) && cmd.includes('containerd-shim')) pids.push(Number(e));
  }
  return pids;
}

/** Processes whose executable is one of `exes` (for the teardown check: nothing of the run may be left). */
export async function processesOf(exes: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const exe = await readlink(`/proc/${e}/exe`).catch(() => '');
    if (exes.includes(exe)) left.push(`${e} ${exe}`);
  }
  return left;
}
