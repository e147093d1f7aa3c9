/**
 * aws-ebs-csi-driver's "EBS NVMe metrics", exported by the node agent: for every EBS volume staged or published
 * on this node, the counters of its NVMe log page 0xD0, read when Prometheus scrapes (one read of every volume per
 * scrape, shared by all the metrics). Names, types and labels (`instance_id`, `volume_id`) are the anchor's; times
 * are converted from the device's microseconds to seconds.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '@plinth/logger';
import type { HostOs } from '../os/host-os.js';
import { parseEbsLogPage, type EbsLogPage, type LatencyBin } from './ebs-log-page.js';
import { volumesInUse } from './volumes.js';

type Label = 'instance_id' | 'volume_id';
const LABELS: Label[] = ['instance_id', 'volume_id'];
const US = 1e6;
/** Log pages read at once during a scrape. */
const PARALLEL_READS = 8;

export interface NvmeCollectorOptions {
  registry: Registry;
  os: HostOs;
  kubeletRoot: string;
  instanceId: string;
  log: Logger;
}

interface VolumePage {
  volumeId: string;
  page: EbsLogPage;
}

/** Histogram series carry `le` besides the metric's labels. */
type SeriesLabel = Label | 'le';
type HistogramValue = Awaited<ReturnType<Histogram<SeriesLabel>['get']>>['values'][number];

/** Prometheus histogram series from the device's bins: cumulative counts at each bin's upper bound, in seconds. */
function histogramSeries(name: string, labels: Record<Label, string>, bins: LatencyBin[], sumSeconds: number): HistogramValue[] {
  const out: HistogramValue[] = [];
  let count = 0;
  for (const b of [...bins].sort((x, y) => x.upperUs - y.upperUs)) {
    count += b.count;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: b.upperUs / US }, value: count });
  }
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
  out.push({ metricName: `${name}_sum`, labels, value: sumSeconds });
  out.push({ metricName: `${name}_count`, labels, value: count });
  return out;
}

/**
 * A histogram whose series are the device's own bins, as they come (prom-client histograms only observe).
 * Its name, help and type are prom-client's own Histogram's.
 */
class PageHistogram extends Histogram<SeriesLabel> {
  private readonly shape: Histogram<SeriesLabel>;
  constructor(
    name: string,
    help: string,
    private readonly series: () => Promise<HistogramValue[]>,
  ) {
    super({ name, help, labelNames: LABELS, registers: [] });
    this.shape = new Histogram({ name, help, labelNames: LABELS, registers: [] });
  }

  override async get(): ReturnType<Histogram<SeriesLabel>['get']> {
    return { ...(await this.shape.get()), values: await this.series() };
  }

  /** What prom-client's Registry reads of a Histogram when it renders the text format; the same answer. */
  getForPromString(): ReturnType<Histogram<SeriesLabel>['get']> {
    return this.get();
  }
}

type CounterField = 'readOps' | 'writeOps' | 'readBytes' | 'writeBytes';
type TimeField =
  'readTimeUs' | 'writeTimeUs' | 'volumeIopsExceededUs' | 'volumeThroughputExceededUs' | 'instanceIopsExceededUs' | 'instanceThroughputExceededUs';

const COUNTERS: { name: string; help: string; field: CounterField | TimeField; seconds: boolean }[] = [
  { name: 'aws_ebs_csi_read_ops_total', help: 'The total number of completed read operations.', field: 'readOps', seconds: false },
  { name: 'aws_ebs_csi_write_ops_total', help: 'The total number of completed write operations.', field: 'writeOps', seconds: false },
  { name: 'aws_ebs_csi_read_bytes_total', help: 'The total number of read bytes transferred.', field: 'readBytes', seconds: false },
  { name: 'aws_ebs_csi_write_bytes_total', help: 'The total number of write bytes transferred.', field: 'writeBytes', seconds: false },
  { name: 'aws_ebs_csi_read_seconds_total', help: 'The total time spent, in seconds, by all completed read operations.', field: 'readTimeUs', seconds: true },
  {
    name: 'aws_ebs_csi_write_seconds_total',
    help: 'The total time spent, in seconds, by all completed write operations.',
    field: 'writeTimeUs',
    seconds: true,
  },
  {
    name: 'aws_ebs_csi_exceeded_iops_seconds_total',
    help: "The total time, in seconds, that IOPS demand exceeded the volume's provisioned IOPS performance.",
    field: 'volumeIopsExceededUs',
    seconds: true,
  },
  {
    name: 'aws_ebs_csi_exceeded_tp_seconds_total',
    help: "The total time, in seconds, that throughput demand exceeded the volume's provisioned throughput performance.",
    field: 'volumeThroughputExceededUs',
    seconds: true,
  },
  {
    name: 'aws_ebs_csi_ec2_exceeded_iops_seconds_total',
    help: "The total time, in seconds, that the EBS volume exceeded the attached Amazon EC2 instance's maximum IOPS performance.",
    field: 'instanceIopsExceededUs',
    seconds: true,
  },
  {
    name: 'aws_ebs_csi_ec2_exceeded_tp_seconds_total',
    help: "The total time, in seconds, that the EBS volume exceeded the attached Amazon EC2 instance's maximum throughput performance.",
    field: 'instanceThroughputExceededUs',
    seconds: true,
  },
];

/** Registers the NVMe collector's metrics in `registry`. */
export function registerNvmeCollector(o: NvmeCollectorOptions): void {
  const { registry, os, log } = o;
  const instance = { instance_id: o.instanceId };
  const scrapes = new Counter({
    name: 'aws_ebs_csi_nvme_collector_scrapes_total',
    help: 'Total number of NVMe collector scrapes.',
    labelNames: ['instance_id'],
    registers: [],
    collect: () => settled(),
  });
  const errors = new Counter({
    name: 'aws_ebs_csi_nvme_collector_errors_total',
    help: 'Total number of NVMe collector scrape errors.',
    labelNames: ['instance_id'],
    registers: [],
    collect: () => settled(),
  });
  const duration = new Histogram({
    name: 'aws_ebs_csi_nvme_collector_duration_seconds',
    help: 'Histogram of NVMe collector scrape duration in seconds.',
    labelNames: ['instance_id'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [],
    collect: () => settled(),
  });
  scrapes.inc(instance, 0);
  errors.inc(instance, 0);

  const read = async (): Promise<VolumePage[]> => {
    scrapes.inc(instance);
    const end = duration.startTimer(instance);
    try {
      const volumes = await volumesInUse(os, o.kubeletRoot);
      const pages: VolumePage[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let v = volumes[next++]; v; v = volumes[next++]) {
          try {
            pages.push({ volumeId: v.volumeId, page: parseEbsLogPage(await os.ebsLogPage(v.device)) });
          } catch (err) {
            errors.inc(instance);
            log.warn({ volumeId: v.volumeId, device: v.device, err: (err as Error).message }, 'NVMe metrics: could not read the EBS log page');
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, volumes.length) }, worker));
      return pages.sort((a, b) => a.volumeId.localeCompare(b.volumeId));
    } catch (err) {
      errors.inc(instance);
      log.warn({ err: (err as Error).message }, 'NVMe metrics: could not list the volumes in use');
      return [];
    } finally {
      end();
    }
  };
  // One read per scrape: the registry asks every metric at once, and they all share the read in flight.
  let current: Promise<VolumePage[]> | undefined;
  const snapshot = (): Promise<VolumePage[]> => (current ??= read().finally(() => (current = undefined)));
  const settled = async (): Promise<void> => {
    await snapshot();
  };
  const labelsOf = (volumeId: string): Record<Label, string> => ({ instance_id: o.instanceId, volume_id: volumeId });

  for (const c of COUNTERS) {
    registry.registerMetric(
      new Counter({
        name: c.name,
        help: c.help,
        labelNames: LABELS,
        registers: [],
        async collect() {
          const pages = await snapshot();
          this.reset();
          for (const { volumeId, page } of pages) this.inc(labelsOf(volumeId), c.seconds ? page[c.field] / US : page[c.field]);
        },
      }),
    );
  }
  registry.registerMetric(
    new Gauge({
      name: 'aws_ebs_csi_volume_queue_length',
      help: 'The number of read and write operations waiting to be completed.',
      labelNames: LABELS,
      registers: [],
      async collect() {
        const pages = await snapshot();
        this.reset();
        for (const { volumeId, page } of pages) this.set(labelsOf(volumeId), page.queueLength);
      },
    }),
  );
  for (const [name, help, bins, time] of [
    ['aws_ebs_csi_read_io_latency_seconds', 'The number of read operations completed within each latency bin, in seconds.', 'readLatency', 'readTimeUs'],
    ['aws_ebs_csi_write_io_latency_seconds', 'The number of write operations completed within each latency bin, in seconds.', 'writeLatency', 'writeTimeUs'],
  ] as const) {
    registry.registerMetric(
      new PageHistogram(name, help, async () =>
        (await snapshot()).flatMap(({ volumeId, page }) => histogramSeries(name, labelsOf(volumeId), page[bins], page[time] / US)),
      ),
    );
  }
  // The collector's own metrics report after the scrape's read, so they count it.
  for (const m of [scrapes, errors, duration]) registry.registerMetric(m);
}
