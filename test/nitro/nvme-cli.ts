/**
 * The emulated Nitro host's `nvme` (nvme-cli): what the node agent runs to read
 * a device's EBS log page, answered for the devices the emulator presents.
 *
 *   nvme get-log <dev> --namespace-id=1 --log-id=0xd0 --log-len=4096 --raw-binary
 *
 * On EC2 the page comes from the device (NVMe Get Log Page through
 * NVME_IOCTL_ADMIN_CMD); here a presented device is a node with a loop
 * device's major:minor, so the page is built from that loop device's real
 * I/O statistics (/sys/dev/block/<maj:min>/stat), read at the moment of the
 * call: the counters move when something writes.
 *
 * - ops, bytes (sectors × 512), total times (ms × 1000 µs) and the queue length
 *   (requests in flight) are the kernel's;
 * - the "exceeded" times are 0 (a loop device has no provisioned limit);
 * - the latency histograms have power-of-two bins (1 µs … 2^31 µs); the kernel
 *   keeps totals, not a distribution, so every operation is counted in the bin
 *   of the mean latency. A real volume sends its own bins, which the agent
 *   exports as they come.
 *
 * A device the emulator does not present as an EBS volume (its sysfs tree,
 * PLINTH_NITRO_SYSFS, has no EBS entry of that major:minor) fails as a device
 * without the page would. `installNvmeCli` writes the executable wrapper.
 *
 * Runs as a plain `node` script (type stripping): node: imports only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const MAGIC = 0x3c23b510n;
const BINS = 64;
const EMULATED_BINS = 32;

/** The page's fields, as the device keeps them (times in µs). */
export interface EmulatedPage {
  readOps: number;
  writeOps: number;
  readBytes: number;
  writeBytes: number;
  readTimeUs: number;
  writeTimeUs: number;
  volumeIopsExceededUs: number;
  volumeThroughputExceededUs: number;
  instanceIopsExceededUs: number;
  instanceThroughputExceededUs: number;
  queueLength: number;
  readLatency: { lowerUs: number; upperUs: number; count: number }[];
  writeLatency: { lowerUs: number; upperUs: number; count: number }[];
}

/** Encodes a page in the layout of EBS's log page 0xD0 (little-endian uint64 fields, 64-bin histograms at 512 and 2056). */
export function encodeEbsLogPage(p: EmulatedPage, length = 4096): Uint8Array {
  const buf = new Uint8Array(Math.max(length, 3600));
  const view = new DataView(buf.buffer);
  const put = (at: number, n: number | bigint): void => view.setBigUint64(at, typeof n === 'bigint' ? n : BigInt(Math.trunc(n)), true);
  put(0, MAGIC);
  const fields = [
    p.readOps,
    p.writeOps,
    p.readBytes,
    p.writeBytes,
    p.readTimeUs,
    p.writeTimeUs,
    p.volumeIopsExceededUs,
    p.volumeThroughputExceededUs,
    p.instanceIopsExceededUs,
    p.instanceThroughputExceededUs,
    p.queueLength,
  ];
  fields.forEach((n, i) => put(8 + i * 8, n));
  const histogram = (at: number, bins: EmulatedPage['readLatency']): void => {
    if (bins.length > BINS) throw new Error(`at most ${BINS} bins`);
    put(at, bins.length);
    bins.forEach((b, i) => {
      put(at + 8 + i * 24, b.lowerUs);
      put(at + 16 + i * 24, b.upperUs);
      put(at + 24 + i * 24, b.count);
    });
  };
  histogram(512, p.readLatency);
  histogram(512 + 8 + BINS * 24, p.writeLatency);
  return buf.subarray(0, length);
}

/** Power-of-two bins with every operation in the bin of the mean latency. */
function meanBins(ops: number, timeUs: number): EmulatedPage['readLatency'] {
  const bins = Array.from({ length: EMULATED_BINS }, (_, i) => ({ lowerUs: i === 0 ? 0 : 2 ** (i - 1), upperUs: 2 ** i, count: 0 }));
  const mean = ops > 0 ? timeUs / ops : 0;
  const at = bins.findIndex((b) => mean <= b.upperUs);
  const bin = bins[at < 0 ? bins.length - 1 : at];
  if (bin) bin.count = ops;
  return bins;
}

/** The page of a block device from its /sys/dev/block/<maj:min>/stat line (Documentation/block/stat.rst). */
export function pageFromDiskStats(stat: string): EmulatedPage {
  const f = stat.trim().split(/\s+/).map(Number);
  const at = (i: number): number => f[i] ?? 0;
  const [readOps, readSectors, readMs, writeOps, writeSectors, writeMs, inFlight] = [at(0), at(2), at(3), at(4), at(6), at(7), at(8)];
  return {
    readOps,
    writeOps,
    readBytes: readSectors * 512,
    writeBytes: writeSectors * 512,
    readTimeUs: readMs * 1000,
    writeTimeUs: writeMs * 1000,
    volumeIopsExceededUs: 0,
    volumeThroughputExceededUs: 0,
    instanceIopsExceededUs: 0,
    instanceThroughputExceededUs: 0,
    queueLength: inFlight,
    readLatency: meanBins(readOps, readMs * 1000),
    writeLatency: meanBins(writeOps, writeMs * 1000),
  };
}

/** Writes `<root>/bin/nvme`, this script behind a wrapper that names the emulator's sysfs tree; returns its path (the agent's NVME_CLI). */
export async function installNvmeCli(root: string, sysRoot: string): Promise<string> {
  const script = fileURLToPath(import.meta.url);
  for (const p of [root, sysRoot, script, process.execPath]) if (p.includes("'")) throw new Error(`cannot quote ${p}`);
  const bin = join(root, 'bin', 'nvme');
  await mkdir(join(root, 'bin'), { recursive: true });
  await writeFile(bin, `#!/bin/sh\nPLINTH_NITRO_SYSFS='${sysRoot}' exec '${process.execPath}' --experimental-strip-types --no-warnings '${script}' "$@"\n`);
  await chmod(bin, 0o755);
  return bin;
}

/** major:minor of a device number (glibc's dev_t encoding). */
function majMin(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** Whether the emulator presents the device number as an EBS volume. */
function presentedAsEbs(sysRoot: string, dev: string): boolean {
  for (const name of readdirSync(join(sysRoot, 'block'))) {
    const read = (p: string): string => {
      try {
        return readFileSync(join(sysRoot, 'block', name, p), 'utf8').trim();
      } catch {
        return '';
      }
    };
    if (read('dev') === dev && read('device/model') === 'Amazon Elastic Block Store') return true;
  }
  return false;
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'namespace-id': { type: 'string', short: 'n' },
      'log-id': { type: 'string', short: 'i' },
      'log-len': { type: 'string', short: 'l' },
      'raw-binary': { type: 'boolean', short: 'b' },
    },
  });
  const [command, device] = positionals;
  if (command !== 'get-log' || !device) {
    process.stderr.write('the emulated nvme answers only: nvme get-log <device> --log-id=0xd0 --log-len=N --raw-binary\n');
    return 1;
  }
  const sysRoot = process.env.PLINTH_NITRO_SYSFS;
  if (!sysRoot) {
    process.stderr.write('PLINTH_NITRO_SYSFS is not set\n');
    return 1;
  }
  let rdev: bigint;
  try {
    rdev = statSync(device, { bigint: true }).rdev;
  } catch (err) {
    process.stderr.write(`${device}: ${(err as Error).message}\n`);
    return 1;
  }
  const dev = majMin(rdev);
  if (Number(values['log-id']) !== 0xd0 || !presentedAsEbs(sysRoot, dev)) {
    process.stderr.write('NVMe status: Invalid Log Page: The log page indicated is invalid(0x4109)\n');
    return 1;
  }
  const length = Number(values['log-len'] ?? '4096');
  if (!values['raw-binary'] || !Number.isInteger(length) || length <= 0) {
    process.stderr.write('the emulated nvme prints only --raw-binary pages of a positive --log-len\n');
    return 1;
  }
  const page = pageFromDiskStats(readFileSync(`/sys/dev/block/${dev}/stat`, 'utf8'));
  process.stdout.write(encodeEbsLogPage(page, length));
  return 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
