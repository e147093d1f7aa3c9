import { describe, expect, it } from 'vitest';
import { encodeEbsLogPage, pageFromDiskStats, type EmulatedPage } from '../../../../test/nitro/nvme-cli.js';
import { EBS_LOG_PAGE_BYTES, parseEbsLogPage } from './ebs-log-page.js';

const page: EmulatedPage = {
  readOps: 100,
  writeOps: 200,
  readBytes: 409_600,
  writeBytes: 2 ** 40 + 7,
  readTimeUs: 5000,
  writeTimeUs: 6000,
  volumeIopsExceededUs: 10,
  volumeThroughputExceededUs: 20,
  instanceIopsExceededUs: 30,
  instanceThroughputExceededUs: 40,
  queueLength: 3,
  readLatency: [
    { lowerUs: 0, upperUs: 100, count: 60 },
    { lowerUs: 100, upperUs: 200, count: 40 },
  ],
  writeLatency: [{ lowerUs: 0, upperUs: 1000, count: 200 }],
};

describe('parseEbsLogPage', () => {
  it('reads every field of a page encoded from the documented layout', () => {
    expect(parseEbsLogPage(encodeEbsLogPage(page))).toEqual(page);
  });

  it('reads the fields at their documented offsets (a page written byte by byte)', () => {
    const buf = new Uint8Array(4096);
    const view = new DataView(buf.buffer);
    view.setUint32(0, 0x3c23b510, true);
    view.setUint32(8, 11, true); // read ops
    view.setUint32(32, 4096, true); // write bytes
    view.setUint32(88, 9, true); // queue length
    view.setUint32(512, 1, true); // read histogram: one bin
    view.setUint32(520, 0, true);
    view.setUint32(528, 512, true);
    view.setUint32(536, 11, true);
    view.setUint32(2056, 2, true); // write histogram: two bins
    view.setUint32(2064 + 24 + 8, 4096, true); // second bin's upper bound
    view.setUint32(2064 + 24 + 16, 5, true); // and count
    const parsed = parseEbsLogPage(buf);
    expect(parsed).toMatchObject({ readOps: 11, writeOps: 0, writeBytes: 4096, queueLength: 9 });
    expect(parsed.readLatency).toEqual([{ lowerUs: 0, upperUs: 512, count: 11 }]);
    expect(parsed.writeLatency).toEqual([
      { lowerUs: 0, upperUs: 0, count: 0 },
      { lowerUs: 0, upperUs: 4096, count: 5 },
    ]);
  });

  it('takes exactly the documented 3600 bytes, and ignores the rest of a 4 KiB page', () => {
    const full = encodeEbsLogPage(page, 4096);
    full.fill(0xff, EBS_LOG_PAGE_BYTES);
    expect(parseEbsLogPage(full)).toEqual(page);
    expect(parseEbsLogPage(full.subarray(0, EBS_LOG_PAGE_BYTES))).toEqual(page);
  });

  it('a short buffer is an error naming both lengths', () => {
    const short = encodeEbsLogPage(page).subarray(0, 512);
    expect(() => parseEbsLogPage(short)).toThrow('EBS log page is 512 bytes; the documented layout needs 3600');
    expect(() => parseEbsLogPage(new Uint8Array(0))).toThrow(expect.objectContaining({ kind: 'Internal' }));
  });

  it('a wrong magic (another device, another page) is an error naming the magic found', () => {
    const bad = encodeEbsLogPage(page);
    new DataView(bad.buffer).setUint32(0, 0xdeadbeef, true);
    expect(() => parseEbsLogPage(bad)).toThrow('EBS log page has magic 0xdeadbeef, not 0x3c23b510');
    expect(() => parseEbsLogPage(new Uint8Array(4096))).toThrow('magic 0x0');
  });

  it('a histogram claiming more bins than it has room for is an error', () => {
    const bad = encodeEbsLogPage(page);
    new DataView(bad.buffer).setUint32(2056, 65, true);
    expect(() => parseEbsLogPage(bad)).toThrow('write latency histogram claims 65 bins; it has room for 64');
  });
});

describe("the emulated host's page (test/nitro/nvme-cli.ts) from a block device's stat line", () => {
  it('takes ops, sectors × 512, ms × 1000 and requests in flight, and counts every op in the bin of the mean latency', () => {
    // reads: 10 ops, 80 sectors, 30 ms; writes: 4 ops, 64 sectors, 2 ms; 1 in flight
    const p = parseEbsLogPage(encodeEbsLogPage(pageFromDiskStats('10 0 80 30 4 1 64 2 1 50 32 0 0 0 0 0 0')));
    expect(p).toMatchObject({ readOps: 10, readBytes: 40_960, readTimeUs: 30_000, writeOps: 4, writeBytes: 32_768, writeTimeUs: 2000, queueLength: 1 });
    // mean read 3000 µs: the (2048, 4096] bin; mean write 500 µs: (256, 512]
    expect(p.readLatency.filter((b) => b.count > 0)).toEqual([{ lowerUs: 2048, upperUs: 4096, count: 10 }]);
    expect(p.writeLatency.filter((b) => b.count > 0)).toEqual([{ lowerUs: 256, upperUs: 512, count: 4 }]);
  });
});
