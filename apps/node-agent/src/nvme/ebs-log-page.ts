/**
 * The EBS NVMe vendor log page (Get Log Page, log id 0xD0): the per-volume
 * performance statistics EBS keeps on the device ("EBS detailed performance
 * statistics"), in the layout aws-ebs-csi-driver reads. Every field is a
 * little-endian uint64:
 *
 *   0    magic 0x3C23B510
 *   8    completed read ops        16  completed write ops
 *   24   bytes read                32  bytes written
 *   40   total read time (µs)      48  total write time (µs)
 *   56   time the volume's provisioned IOPS were exceeded (µs)
 *   64   time the volume's provisioned throughput was exceeded (µs)
 *   72   time the instance's EBS IOPS limit was exceeded (µs)
 *   80   time the instance's EBS throughput limit was exceeded (µs)
 *   88   queue length (operations waiting)
 *   96   reserved (416 bytes)
 *   512  read latency histogram: bin count, then 64 bins of (lower µs, upper µs, count)
 *   2056 write latency histogram, the same
 *   3600 end of the documented fields (the device returns a 4 KiB page)
 */
import { internal } from '@plinth/errors';

export const EBS_LOG_PAGE_ID = 0xd0;
const EBS_LOG_PAGE_MAGIC = 0x3c23b510n;
/** Bytes asked of the device (one 4 KiB page, as aws-ebs-csi-driver's ioctl). */
export const EBS_LOG_PAGE_READ_BYTES = 4096;
/** Bytes the documented fields take. */
export const EBS_LOG_PAGE_BYTES = 3600;
/** Bins each histogram has room for. */
const EBS_HISTOGRAM_BINS = 64;

const READ_HISTOGRAM_AT = 512;
const HISTOGRAM_BYTES = 8 + EBS_HISTOGRAM_BINS * 24;

/** One latency bin: operations that completed in (lowerUs, upperUs]. */
export interface LatencyBin {
  lowerUs: number;
  upperUs: number;
  count: number;
}

/** The page's counters (times in microseconds, as the device keeps them). */
export interface EbsLogPage {
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
  readLatency: LatencyBin[];
  writeLatency: LatencyBin[];
}

function histogram(view: DataView, at: number, which: string): LatencyBin[] {
  const count = view.getBigUint64(at, true);
  if (count > BigInt(EBS_HISTOGRAM_BINS))
    throw internal(`EBS log page: the ${which} latency histogram claims ${count} bins; it has room for ${EBS_HISTOGRAM_BINS}`);
  const bins: LatencyBin[] = [];
  for (let i = 0; i < Number(count); i++) {
    const b = at + 8 + i * 24;
    bins.push({ lowerUs: Number(view.getBigUint64(b, true)), upperUs: Number(view.getBigUint64(b + 8, true)), count: Number(view.getBigUint64(b + 16, true)) });
  }
  return bins;
}

/** Parses the page; a short buffer or a wrong magic (not an EBS volume, or not this page) is an error saying which. */
export function parseEbsLogPage(data: Uint8Array): EbsLogPage {
  if (data.byteLength < EBS_LOG_PAGE_BYTES) throw internal(`EBS log page is ${data.byteLength} bytes; the documented layout needs ${EBS_LOG_PAGE_BYTES}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u64 = (at: number): number => Number(view.getBigUint64(at, true));
  const magic = view.getBigUint64(0, true);
  if (magic !== EBS_LOG_PAGE_MAGIC) {
    throw internal(
      `EBS log page has magic 0x${magic.toString(16)}, not 0x${EBS_LOG_PAGE_MAGIC.toString(16)}: the device is not an EBS volume or did not return log page 0xd0`,
    );
  }
  return {
    readOps: u64(8),
    writeOps: u64(16),
    readBytes: u64(24),
    writeBytes: u64(32),
    readTimeUs: u64(40),
    writeTimeUs: u64(48),
    volumeIopsExceededUs: u64(56),
    volumeThroughputExceededUs: u64(64),
    instanceIopsExceededUs: u64(72),
    instanceThroughputExceededUs: u64(80),
    queueLength: u64(88),
    readLatency: histogram(view, READ_HISTOGRAM_AT, 'read'),
    writeLatency: histogram(view, READ_HISTOGRAM_AT + HISTOGRAM_BYTES, 'write'),
  };
}
