import {
  AttachVolumeCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteTagsCommand,
  DeleteVolumeCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  DescribeVolumesModificationsCommand,
  DetachVolumeCommand,
  ModifyVolumeCommand,
  type CreateVolumeCommandInput,
  type EC2Client,
  type Filter,
  type Instance,
  type Tag,
  type Volume,
  type VolumeAttachment,
  type VolumeModification,
  type VolumeType,
} from '@aws-sdk/client-ec2';
import { callEc2, type Ec2Options } from '../call.js';
import { causeCode, unsupportedAsUnimplemented } from '../errors.js';
import { TAG_CLUSTER, TAG_CSI_NAME } from '../tags.js';
import type { VolumeChange } from '../types.js';

const FILTER_CHUNK = 200;

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * Plinth's EC2 adapter. Every request passes the shared rate limiter, retries
 * throttling and transient failures with backoff (never surfacing them while
 * the budget lasts), is observed for metrics, and fails with a domain error.
 */
export class Ec2 {
  constructor(
    readonly client: EC2Client,
    private readonly opts: Ec2Options,
  ) {}

  send<T>(action: string, what: string, call: (signal: AbortSignal | undefined) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return callEc2(this.opts, action, what, call, signal);
  }

  private async describeVolumesPaged(filters: Filter[], what: string, signal?: AbortSignal): Promise<Volume[]> {
    const out: Volume[] = [];
    let token: string | undefined;
    do {
      const res = await this.send(
        'DescribeVolumes',
        what,
        (s) => this.client.send(new DescribeVolumesCommand({ Filters: filters, ...(token ? { NextToken: token } : {}) }), { abortSignal: s }),
        signal,
      );
      out.push(...(res.Volumes ?? []));
      token = res.NextToken;
    } while (token);
    return out;
  }

  /** Volumes by id. Ids not found are simply absent (a filter, so one bad id never fails the batch). */
  async describeVolumes(ids: string[], signal?: AbortSignal): Promise<Map<string, Volume>> {
    const found = new Map<string, Volume>();
    for (const part of chunks([...new Set(ids)], FILTER_CHUNK)) {
      const vols = await this.describeVolumesPaged([{ Name: 'volume-id', Values: part }], `volumes ${part.join(',')}`, signal);
      for (const v of vols) if (v.VolumeId && part.includes(v.VolumeId)) found.set(v.VolumeId, v);
    }
    return found;
  }

  /** This cluster's volumes carrying the given CSI names, grouped by name. */
  async findVolumesByName(clusterId: string, names: string[], signal?: AbortSignal): Promise<Map<string, Volume[]>> {
    const found = new Map<string, Volume[]>();
    for (const part of chunks([...new Set(names)], FILTER_CHUNK)) {
      const vols = await this.describeVolumesPaged(
        [
          { Name: `tag:${TAG_CSI_NAME}`, Values: part },
          { Name: `tag:${TAG_CLUSTER}`, Values: [clusterId] },
        ],
        `volumes named ${part.join(',')}`,
        signal,
      );
      for (const v of vols) {
        const name = v.Tags?.find((t) => t.Key === TAG_CSI_NAME)?.Value;
        if (!name || !part.includes(name)) continue;
        const list = found.get(name) ?? [];
        list.push(v);
        found.set(name, list);
      }
    }
    return found;
  }

  /** All volumes of this cluster (paged by EC2 where it pages). */
  async listClusterVolumes(clusterId: string, signal?: AbortSignal): Promise<Volume[]> {
    return this.describeVolumesPaged([{ Name: `tag:${TAG_CLUSTER}`, Values: [clusterId] }], `volumes of cluster ${clusterId}`, signal);
  }

  /** Instances by id; terminated ones count as gone. */
  async describeInstances(ids: string[], signal?: AbortSignal): Promise<Map<string, Instance>> {
    const found = new Map<string, Instance>();
    for (const part of chunks([...new Set(ids)], FILTER_CHUNK)) {
      let token: string | undefined;
      do {
        const res = await this.send(
          'DescribeInstances',
          `instances ${part.join(',')}`,
          (s) =>
            this.client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: part }], ...(token ? { NextToken: token } : {}) }), {
              abortSignal: s,
            }),
          signal,
        );
        for (const r of res.Reservations ?? [])
          for (const i of r.Instances ?? [])
            if (i.InstanceId && part.includes(i.InstanceId) && i.State?.Name !== 'terminated' && i.State?.Name !== 'shutting-down') found.set(i.InstanceId, i);
        token = res.NextToken;
      } while (token);
    }
    return found;
  }

  async createVolume(input: CreateVolumeCommandInput, what: string, signal?: AbortSignal): Promise<Volume> {
    const res = await this.send('CreateVolume', what, (s) => this.client.send(new CreateVolumeCommand(input), { abortSignal: s }), signal);
    return res;
  }

  async deleteVolume(volumeId: string, signal?: AbortSignal): Promise<void> {
    await this.send('DeleteVolume', `volume ${volumeId}`, (s) => this.client.send(new DeleteVolumeCommand({ VolumeId: volumeId }), { abortSignal: s }), signal);
  }

  async attachVolume(volumeId: string, instanceId: string, device: string, signal?: AbortSignal): Promise<VolumeAttachment> {
    return this.send(
      'AttachVolume',
      `volume ${volumeId} on node ${instanceId}`,
      (s) => this.client.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: device }), { abortSignal: s }),
      signal,
    );
  }

  async detachVolume(volumeId: string, instanceId: string, signal?: AbortSignal, force = false): Promise<void> {
    await this.send(
      'DetachVolume',
      `volume ${volumeId} on node ${instanceId}`,
      (s) => this.client.send(new DetachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, ...(force ? { Force: true } : {}) }), { abortSignal: s }),
      signal,
    );
  }

  /**
   * Starts one modification of a volume (ModifyVolume) with only the given
   * fields, and answers EC2's record of it. DescribeVolumes may show the
   * target values before the modification is done; DescribeVolumesModifications
   * tells when it is (`optimizing` or `completed`).
   */
  async modifyVolume(volumeId: string, change: VolumeChange, signal?: AbortSignal): Promise<VolumeModification | undefined> {
    const res = await this.send(
      'ModifyVolume',
      `volume ${volumeId}`,
      (s) =>
        this.client.send(
          new ModifyVolumeCommand({
            VolumeId: volumeId,
            ...(change.sizeGiB !== undefined ? { Size: change.sizeGiB } : {}),
            ...(change.type !== undefined ? { VolumeType: change.type as VolumeType } : {}),
            ...(change.iops !== undefined ? { Iops: change.iops } : {}),
            ...(change.throughput !== undefined ? { Throughput: change.throughput } : {}),
          }),
          { abortSignal: s },
        ),
      signal,
    );
    return res.VolumeModification;
  }

  /**
   * Every modification EC2 reports for a volume (EC2 keeps only the latest;
   * some emulators keep all); empty when it was never modified. UNIMPLEMENTED
   * where the endpoint does not offer DescribeVolumesModifications.
   */
  async volumeModifications(volumeId: string, signal?: AbortSignal): Promise<VolumeModification[]> {
    const all: VolumeModification[] = [];
    let token: string | undefined;
    try {
      do {
        const res = await this.send(
          'DescribeVolumesModifications',
          `volume ${volumeId}`,
          (s) =>
            unsupportedAsUnimplemented('DescribeVolumesModifications', () =>
              this.client.send(new DescribeVolumesModificationsCommand({ VolumeIds: [volumeId], ...(token ? { NextToken: token } : {}) }), { abortSignal: s }),
            ),
          signal,
        );
        all.push(...(res.VolumesModifications ?? []).filter((m) => m.VolumeId === volumeId));
        token = res.NextToken;
      } while (token);
    } catch (err) {
      // EC2's answer for a volume that was never modified.
      if (causeCode(err) === 'InvalidVolumeModification.NotFound') return [];
      throw err;
    }
    return all;
  }

  /** Adds or overwrites tags on a resource (CreateTags). */
  async createTags(resourceId: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const list: Tag[] = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    if (list.length === 0) return;
    await this.send(
      'CreateTags',
      `tags of ${resourceId}`,
      (s) => this.client.send(new CreateTagsCommand({ Resources: [resourceId], Tags: list }), { abortSignal: s }),
      signal,
    );
  }

  /** Deletes tags by key from a resource (DeleteTags). */
  async deleteTags(resourceId: string, keys: readonly string[], signal?: AbortSignal): Promise<void> {
    if (keys.length === 0) return;
    await this.send(
      'DeleteTags',
      `tags of ${resourceId}`,
      (s) => this.client.send(new DeleteTagsCommand({ Resources: [resourceId], Tags: keys.map((Key) => ({ Key })) }), { abortSignal: s }),
      signal,
    );
  }

  /** A cheap reachability check (used by Probe and readiness). */
  async ping(signal?: AbortSignal): Promise<void> {
    await this.send(
      'DescribeAvailabilityZones',
      'availability zones',
      (s) => this.client.send(new DescribeAvailabilityZonesCommand({}), { abortSignal: s }),
      signal,
    );
  }
}
