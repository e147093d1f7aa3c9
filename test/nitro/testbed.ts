/**
 * An emulated Nitro host with its EBS direct endpoint on an instance of its
 * own, for integration tests that write blocks and read them back through the
 * EBS direct APIs: volumes made and attached here, bytes written at block
 * offsets, snapshots taken and copied. Everything it made goes in close().
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AttachVolumeCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DetachVolumeCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2Of, runInstance, volumeById } from '../support/ec2.js';
import { createFakeHost, writeAt, type FakeHost } from '../support/nvme.js';
import type { Stack } from '../support/stack.js';
import { startEbsDirect, type EbsDirect } from './ebs-direct.js';
import { startNitro, type NitroHost } from './emulator.js';

export const EBS_BLOCK = 512 * 1024;

async function until(what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface NitroTestbed {
  ec2: EC2Client;
  instanceId: string;
  host: FakeHost;
  nitro: NitroHost;
  ebs: EbsDirect;
  /** A new gp3 volume of `sizeGiB`, attached here; answers its id. */
  attachedVolume(sizeGiB: number): Promise<string>;
  /** Attaches a volume made elsewhere (e.g. by the controller) and waits until the host presents it. */
  attach(volumeId: string): Promise<void>;
  /** Writes `text` at the start of each block (block index → text) of an attached volume, synced to its backing file. */
  writeBlocks(volumeId: string, blocks: ReadonlyMap<number, string>): Promise<void>;
  /** Waits until the host has copied the snapshot (its bytes as of now). */
  captured(snapshotId: string): Promise<void>;
  /** CreateSnapshot of the volume, then waits until it is copied; answers its id. */
  snapshot(volumeId: string): Promise<string>;
  close(): Promise<void>;
}

export async function startNitroTestbed(stack: Stack): Promise<NitroTestbed> {
  const ec2 = ec2Of(stack);
  // An instance of its own, so device names and presented volumes never mix with other suites'.
  const instanceId = await runInstance(ec2, stack.zone, stack.instanceType);
  const host = await createFakeHost();
  const nitro = await startNitro({ ec2, instanceId, host, dataDir: join(host.root, 'volumes'), pollMs: 100 });
  const ebs = await startEbsDirect({ ec2, fileOf: (id) => nitro.backingFile(id), sync: () => nitro.sync() });
  const volumes: string[] = [];
  const snapshots: string[] = [];
  let devices = 0;

  const attach = async (volumeId: string): Promise<void> => {
    const n = devices++;
    const device = `/dev/xvd${String.fromCharCode(98 + Math.floor(n / 26))}${String.fromCharCode(97 + (n % 26))}`;
    await ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: device }));
    await until(`${volumeId} attached`, async () => (await volumeById(ec2, volumeId))?.Attachments?.[0]?.State === 'attached');
    await until(`${volumeId} presented`, async () => {
      await nitro.sync();
      return nitro.attached().has(volumeId);
    });
  };

  const captured = (snapshotId: string): Promise<void> =>
    until(`${snapshotId} copied`, async () => {
      await nitro.sync();
      return stat(nitro.backingFile(snapshotId)).then(
        () => true,
        () => false,
      );
    });

  return {
    ec2,
    instanceId,
    host,
    nitro,
    ebs,
    async attachedVolume(sizeGiB) {
      const v = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: stack.zone, Size: sizeGiB, VolumeType: 'gp3' }));
      const id = v.VolumeId!;
      volumes.push(id);
      await until(`${id} available`, async () => (await volumeById(ec2, id))?.State === 'available');
      await attach(id);
      return id;
    },
    attach,
    async writeBlocks(volumeId, blocks) {
      const a = nitro.attached().get(volumeId);
      if (!a) throw new Error(`${volumeId} is not attached to the testbed's host`);
      for (const [block, text] of blocks) await writeAt(join(host.devRoot, a.device.name), block * EBS_BLOCK, text);
    },
    captured,
    async snapshot(volumeId) {
      const s = await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }));
      const id = s.SnapshotId!;
      snapshots.push(id);
      await captured(id);
      return id;
    },
    async close() {
      await ebs.close();
      await nitro.stop({ purge: true });
      for (const id of snapshots) await ec2.send(new DeleteSnapshotCommand({ SnapshotId: id })).catch(() => undefined);
      for (const id of volumes) {
        await ec2.send(new DetachVolumeCommand({ VolumeId: id, Force: true })).catch(() => undefined);
        await until(`${id} detached`, async () => ((await volumeById(ec2, id))?.Attachments ?? []).length === 0).catch(() => undefined);
        await ec2.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined);
      }
      await host.cleanup();
      ec2.destroy();
    },
  };
}
