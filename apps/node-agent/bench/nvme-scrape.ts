/**
 * How long a Prometheus scrape of the node agent's /metrics takes with N staged volumes (25 by default) on the
 * emulated Nitro host, where every volume's EBS log page is read through the emulator's `nvme` (a Node.js process
 * per volume and scrape). Also the cost of one run of Debian's real nvme-cli (on a loop device, where its ioctl is
 * refused: the process and the syscall, not a device's answer), and the scrape again with NVME_CLI set to a stub
 * that prints a fixed page (`sh` + `cat`, about as cheap as nvme-cli), to tell the agent's own cost from the
 * emulator's. Needs root. Not a test: it prints numbers (with the load average, as the machine may be shared).
 *
 *   npm run bench:nvme -w @plinth/node-agent        (BENCH_VOLUMES=25, BENCH_SCRAPES=15)
 */
import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeEbsLogPage, installNvmeCli, pageFromDiskStats } from '../../../test/nitro/nvme-cli.js';
import { mountCap, newVolumeId, startTestAgent } from '../../../test/support/node-agent.js';
import { createFakeHost, detachAll } from '../../../test/support/nvme.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;
const volumes = Number(process.env.BENCH_VOLUMES ?? 25);
const scrapes = Number(process.env.BENCH_SCRAPES ?? 15);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const ms = (n: number): string => `${n.toFixed(1)} ms`;

/** Median, p90 and max of `scrapes` scrapes of /metrics, and how many volumes the last one exported. */
async function measure(port: number): Promise<string> {
  const scrape = async (): Promise<{ ms: number; series: number }> => {
    const start = performance.now();
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const took = performance.now() - start;
    return { ms: took, series: body.split('\n').filter((l) => l.startsWith('aws_ebs_csi_read_ops_total{')).length };
  };
  await scrape(); // warm-up
  const times: number[] = [];
  let series = 0;
  for (let i = 0; i < scrapes; i++) {
    const r = await scrape();
    series = r.series;
    times.push(r.ms);
  }
  return `median ${ms(pct(times, 50))}, p90 ${ms(pct(times, 90))}, max ${ms(Math.max(...times))} (${series}/${volumes} volumes exported)`;
}

async function main(): Promise<void> {
  const host = await createFakeHost();
  const nvme = await installNvmeCli(host.root, host.sysRoot);
  const page = join(host.root, 'page.bin');
  await writeFile(page, encodeEbsLogPage(pageFromDiskStats('10 0 80 30 4 1 64 2 0 50 32')));
  const stub = join(host.root, 'bin', 'nvme-stub');
  await writeFile(stub, `#!/bin/sh\nexec cat '${page}'\n`);
  await chmod(stub, 0o755);
  const t = await startTestAgent(host, { METRICS_ADDRESS: '127.0.0.1:0', NVME_CLI: nvme });
  const fast = await startTestAgent({ ...host, root: join(host.root, 'stub') }, { METRICS_ADDRESS: '127.0.0.1:0', NVME_CLI: stub });
  try {
    for (let i = 0; i < volumes; i++) {
      const volumeId = newVolumeId();
      await host.present(await host.loop(32 * MiB), { volumeId });
      const staging = join(host.kubeletRoot, 'plugins/kubernetes.io/csi/ebs.csi.plinth.dev', volumeId, 'globalmount');
      await t.api.stage({ volumeId, stagingTargetPath: staging, volumeCapability: mountCap(), publishContext: {}, secrets: {}, volumeContext: {} });
    }
    const emulated = await measure((t.agent.metrics?.address() as AddressInfo).port);
    const stubbed = await measure((fast.agent.metrics?.address() as AddressInfo).port);
    const loop = await host.loop(32 * MiB);
    const cli: number[] = [];
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      await exec('nvme', ['get-log', loop.path, '--namespace-id=1', '--log-id=0xd0', '--log-len=4096', '--raw-binary']).catch(() => undefined);
      cli.push(performance.now() - start);
    }
    const shim: number[] = [];
    const dev = join(host.devRoot, 'nvme1n1');
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      await exec(nvme, ['get-log', dev, '--namespace-id=1', '--log-id=0xd0', '--log-len=4096', '--raw-binary'], { encoding: 'buffer' });
      shim.push(performance.now() - start);
    }
    console.log(
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${availableParallelism()} CPUs`,
    );
    console.log(`NVMe metrics scrape, ${volumes} staged volumes, ${scrapes} scrapes, pages from the emulator's nvme: ${emulated}`);
    console.log(`the same, pages from a stub as cheap as nvme-cli (sh + cat of a fixed page): ${stubbed}`);
    console.log(
      `one log page read: emulator's nvme median ${ms(pct(shim, 50))}; Debian nvme-cli 2.3 run (ioctl refused on a loop device) median ${ms(pct(cli, 50))}`,
    );
  } finally {
    await fast.close();
    await t.close();
    await host.cleanup();
    await detachAll();
  }
}

await main();
