/**
 * What the I/O heartbeat of NodeGetVolumeHealth costs per volume: N
 * heartbeats (one 4 KiB O_DIRECT read in a `dd` child, as LinuxOs.readProbe
 * runs it) of a loop device, one after the other, with the mean, p50, p99
 * and max wall time per heartbeat and the agent's own CPU time. Needs root.
 * Not a test: it prints numbers.
 *
 *   node --conditions=plinth-src --import tsx apps/node-agent/bench/heartbeat.ts   (HEARTBEATS=1000 by default)
 */
import { performance } from 'node:perf_hooks';
import { createFakeHost } from '../../../test/support/nvme.js';
import { LinuxOs } from '../src/os/linux.js';

const N = Number(process.env.HEARTBEATS ?? 1000);
const host = await createFakeHost();
try {
  const loop = await host.loop(64 * 1024 * 1024);
  const dev = await host.present(loop, { volumeId: 'vol-0123456789abcdef0' });
  const os = new LinuxOs({ sysRoot: host.sysRoot, devRoot: host.devRoot });
  const ms: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const r = await os.readProbe(dev.devPath, 5_000);
    ms.push(performance.now() - t0);
    if (r.kind !== 'ok') throw new Error(`heartbeat ${i} failed: ${JSON.stringify(r)}`);
  }
  const cpu = process.cpuUsage(cpu0);
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!;
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  console.log(
    `${N} heartbeats of ${dev.devPath} (${loop.path}): mean ${mean.toFixed(2)} ms, p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, max ${ms.at(-1)!.toFixed(2)} ms; agent CPU ${((cpu.user + cpu.system) / 1000 / N).toFixed(3)} ms per heartbeat (the dd child's own CPU not included)`,
  );
} finally {
  await host.cleanup();
}
