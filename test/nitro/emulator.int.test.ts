import { execFile } from 'node:child_process';
import { readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AttachVolumeCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DetachVolumeCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Of, volumeById } from '../support/ec2.js';
import { createFakeHost, readAt, writeAt, type FakeHost } from '../support/nvme.js';
import { requireStack, type Stack } from '../support/stack.js';
import { startNitro, type NitroHost } from './emulator.js';

const exec = promisify(execFile);
const GiB = 1024 ** 3;

async function until(what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('emulated Nitro host', () => {
  let stack: Stack;
  let ec2: EC2Client;
  let host: FakeHost;
  let nitro: NitroHost;
  const created: string[] = [];

  beforeAll(async () => {
    stack = requireStack();
    ec2 = ec2Of(stack);
    host = await createFakeHost();
    nitro = await startNitro({ ec2, instanceId: stack.nodeId, host, dataDir: join(host.root, 'volumes'), pollMs: 100 });
  });

  afterAll(async () => {
    await nitro?.stop({ purge: true });
    for (const id of created) {
      await ec2.send(new DetachVolumeCommand({ VolumeId: id, Force: true })).catch(() => undefined);
      await until(`${id} detached`, async () => ((await volumeById(ec2, id))?.Attachments ?? []).length === 0).catch(() => undefined);
      await ec2.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined);
    }
    await host?.cleanup();
  });

  const attach = async (volumeId: string, device: string): Promise<void> => {
    await ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: stack.nodeId, Device: device }));
    await until(`${volumeId} attached`, async () => (await volumeById(ec2, volumeId))?.Attachments?.[0]?.State === 'attached');
    await nitro.sync();
  };
  const detach = async (volumeId: string): Promise<void> => {
    await ec2.send(new DetachVolumeCommand({ VolumeId: volumeId, InstanceId: stack.nodeId }));
    await until(`${volumeId} detached`, async () => ((await volumeById(ec2, volumeId))?.Attachments ?? []).length === 0);
    await nitro.sync();
  };
  const newVolume = async (size: number, snapshotId?: string): Promise<string> => {
    const v = await ec2.send(
      new CreateVolumeCommand({ AvailabilityZone: stack.zone, Size: size, VolumeType: 'gp3', ...(snapshotId ? { SnapshotId: snapshotId } : {}) }),
    );
    const id = v.VolumeId!;
    created.push(id);
    await until(`${id} available`, async () => (await volumeById(ec2, id))?.State === 'available');
    return id;
  };
  const losetupHas = async (file: string): Promise<boolean> => (await exec('losetup', ['-a'])).stdout.includes(file);

  it('attach presents the volume by serial, size and device name; detach removes it; re-attach shows the same bytes; delete removes the file', async () => {
    const id = await newVolume(2);
    await attach(id, '/dev/xvdbc');

    const a = nitro.attached().get(id);
    expect(a).toBeDefined();
    const name = a!.device.name;
    const serial = (await readFile(join(host.sysRoot, 'block', name, 'device', 'serial'), 'utf8')).trim();
    expect(serial).toBe(id.replace('vol-', 'vol'));
    expect(Number((await readFile(join(host.sysRoot, 'block', name, 'size'), 'utf8')).trim()) * 512).toBe(2 * GiB);
    expect((await stat(join(host.devRoot, name))).isBlockDevice()).toBe(true);
    expect(await readlink(join(host.devRoot, 'xvdbc'))).toBe(name);
    expect(Number((await exec('blockdev', ['--getsize64', join(host.devRoot, 'xvdbc')])).stdout.trim())).toBe(2 * GiB);

    await writeAt(join(host.devRoot, name), GiB + 4096, 'plinth was here');
    await detach(id);
    expect(nitro.attached().has(id)).toBe(false);
    await expect(stat(join(host.devRoot, name))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(host.sysRoot, 'block', name))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(host.devRoot, 'xvdbc'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await losetupHas(nitro.backingFile(id))).toBe(false);

    await attach(id, '/dev/xvdbd');
    const again = nitro.attached().get(id)!;
    expect(await readAt(join(host.devRoot, 'xvdbd'), GiB + 4096, 15)).toBe('plinth was here');
    await detach(id);
    expect(await losetupHas(nitro.backingFile(id))).toBe(false);
    await expect(stat(join(host.devRoot, again.device.name))).rejects.toMatchObject({ code: 'ENOENT' });

    await ec2.send(new DeleteVolumeCommand({ VolumeId: id }));
    await until('backing file removed', async () => {
      await nitro.sync();
      return !(await stat(nitro.backingFile(id)).catch(() => undefined));
    });
  });

  it('a volume created from a snapshot starts with the bytes the volume had when the snapshot was seen', async () => {
    const id = await newVolume(1);
    await attach(id, '/dev/xvdbe');
    await writeAt(join(host.devRoot, 'xvdbe'), 8192, 'snapshot me');
    const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: id }));
    const snapId = snap.SnapshotId!;
    await until('snapshot captured', async () => {
      await nitro.sync();
      return !!(await stat(nitro.backingFile(snapId)).catch(() => undefined));
    });
    await writeAt(join(host.devRoot, 'xvdbe'), 8192, 'later bytes');
    const restored = await newVolume(1, snapId);
    await attach(restored, '/dev/xvdbf');
    expect(await readAt(join(host.devRoot, 'xvdbf'), 8192, 11)).toBe('snapshot me');
    expect(await readAt(join(host.devRoot, 'xvdbe'), 8192, 11)).toBe('later bytes');
    await detach(restored);
    await detach(id);
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapId }));
    await until('snapshot file removed', async () => {
      await nitro.sync();
      return !(await stat(nitro.backingFile(snapId)).catch(() => undefined));
    });
  });
});
