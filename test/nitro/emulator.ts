/**
 * An emulated Nitro host: watches EC2 (LocalStack or moto) for volumes
 * attached to one instance and makes each appear as EC2 would make it appear
 * on that instance — a block device in a fake sysfs + /dev tree (see
 * test/support/nvme.ts), NVMe-style, whose serial is the volume id, with a
 * link at the attachment device name (/dev/xvdaa → nvme1n1, as Amazon Linux's
 * udev rules make).
 *
 * - The bytes live in `<dataDir>/<volumeId>.img`, a sparse file of the
 *   volume's size behind a real loop device. Detach tears the device down and
 *   keeps the file, so a re-attach shows the same bytes; once the volume is
 *   gone from EC2 (DeleteVolume) the file is removed.
 * - A volume that grows in EC2 (ModifyVolume) grows its file, the loop device
 *   (`losetup -c`) and the sysfs size.
 * - Snapshots: a snapshot's bytes are the volume's at the moment EC2 took it.
 *   When CreateSnapshot goes through the host's EC2 proxy (./ec2-proxy.ts),
 *   the volume's file is copied (sparse) before the call is forwarded, and the
 *   copy becomes `<dataDir>/<snapshotId>.img` once EC2 answers: bytes written
 *   after CreateSnapshot returned are never in it, as with EBS. A snapshot made
 *   around the proxy is copied at the poll that first sees it (later than EC2
 *   took it). A volume created from a snapshot starts as a copy of it.
 *
 * Commands run through execFile with argument arrays and timeouts. Needs root.
 */
import { execFile } from 'node:child_process';
import { copyFile, constants, mkdir, readdir, readFile, rename, rm, stat, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeSnapshotsCommand, DescribeVolumesCommand, type EC2Client, type Volume } from '@aws-sdk/client-ec2';
import type { FakeHost, LoopDevice, PresentedDevice } from '../support/nvme.js';

const exec = promisify(execFile);
const run = async (cmd: string, args: string[]): Promise<string> => (await exec(cmd, args, { timeout: 60_000 })).stdout;

const GiB = 1024 ** 3;

export interface NitroOptions {
  ec2: EC2Client;
  /** The instance this host is. */
  instanceId: string;
  /** Where devices are presented. */
  host: FakeHost;
  /** Backing files (volumes and snapshots), kept across detach. */
  dataDir: string;
  pollMs?: number;
  log?: (msg: string) => void;
}

interface Attached {
  volumeId: string;
  device: PresentedDevice;
  /** The attachment's device name link under devRoot, e.g. <dev>/xvdaa. */
  attachLink?: string | undefined;
  bytes: number;
}

export interface NitroHost {
  /** One poll of EC2, applied; resolves when the devices match what EC2 reports. */
  sync(): Promise<void>;
  attached(): ReadonlyMap<string, Attached>;
  backingFile(id: string): string;
  /**
   * CreateSnapshot's moment: copies the volume's bytes now (device buffers flushed first) and returns a function
   * that files the copy as the snapshot's once EC2 has named it (undefined: the call failed; the copy is dropped).
   */
  captureForSnapshot(volumeId: string): Promise<(snapshotId: string | undefined) => Promise<void>>;
  /**
   * CreateVolume from a snapshot: the new volume's bytes are the snapshot's from that moment on, as with EBS, even
   * if the snapshot is deleted before the volume is first attached (a clone's intermediate snapshot is).
   */
  fillFromSnapshot(volumeId: string, snapshotId: string): Promise<void>;
  /** Stops polling, tears down every device it presented (the backing files stay unless `purge`). */
  stop(opts?: { purge?: boolean }): Promise<void>;
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

async function loopOf(file: string): Promise<LoopDevice> {
  const path = (await run('losetup', ['--find', '--show', file])).trim();
  const majMin = (await readFile(`/sys/class/block/${path.replace('/dev/', '')}/dev`, 'utf8')).trim();
  return {
    path,
    backingFile: file,
    majMin,
    async size() {
      return Number((await run('blockdev', ['--getsize64', path])).trim());
    },
    async grow(bytes: number) {
      await truncate(file, bytes);
      await run('losetup', ['-c', path]);
    },
    async detach() {
      await run('losetup', ['-d', path]);
    },
  };
}

export async function startNitro(opts: NitroOptions): Promise<NitroHost> {
  const { ec2, instanceId, host, dataDir } = opts;
  const log = opts.log ?? (() => undefined);
  await mkdir(dataDir, { recursive: true });
  const attached = new Map<string, Attached>();
  const fileOf = (id: string): string => join(dataDir, `${id}.img`);

  const present = async (v: Volume): Promise<void> => {
    const volumeId = v.VolumeId!;
    const bytes = (v.Size ?? 1) * GiB;
    const file = fileOf(volumeId);
    if (!(await exists(file))) {
      const fromSnap = v.SnapshotId ? fileOf(v.SnapshotId) : undefined;
      if (fromSnap && (await exists(fromSnap))) await copyFile(fromSnap, file, constants.COPYFILE_FICLONE);
      else await writeFile(file, '');
    }
    if ((await stat(file)).size < bytes) await truncate(file, bytes);
    const loop = await loopOf(file);
    try {
      const device = await host.present(loop, { volumeId });
      const name = v.Attachments?.find((a) => a.InstanceId === instanceId)?.Device;
      let attachLink: string | undefined;
      if (name && /^\/dev\/[a-z0-9]+$/.test(name)) {
        attachLink = join(host.devRoot, name.slice('/dev/'.length));
        await unlink(attachLink).catch(() => undefined);
        await symlink(device.name, attachLink);
      }
      attached.set(volumeId, { volumeId, device, attachLink, bytes });
      log(`attached ${volumeId} as ${device.name} (${loop.path}, ${v.Size} GiB${name ? `, ${name}` : ''})`);
    } catch (err) {
      await loop.detach().catch(() => undefined);
      throw err;
    }
  };

  const tearDown = async (a: Attached): Promise<void> => {
    attached.delete(a.volumeId);
    if (a.attachLink) await unlink(a.attachLink).catch(() => undefined);
    await host.remove(a.device.name);
    await a.device.loop.detach().catch(() => undefined);
    log(`detached ${a.volumeId} (${a.device.name})`);
  };

  const grow = async (a: Attached, bytes: number): Promise<void> => {
    await a.device.loop.grow(bytes);
    await writeFile(join(host.sysRoot, 'block', a.device.name, 'size'), `${Math.floor(bytes / 512)}\n`);
    a.bytes = bytes;
    log(`grew ${a.volumeId} to ${bytes / GiB} GiB`);
  };

  /** Volume and snapshot ids that have a backing file. */
  const backed = async (): Promise<{ volumes: string[]; snapshots: string[] }> => {
    const names = (await readdir(dataDir)).filter((n) => n.endsWith('.img')).map((n) => n.slice(0, -4));
    return { volumes: names.filter((n) => n.startsWith('vol-')), snapshots: names.filter((n) => n.startsWith('snap-')) };
  };

  const sync = async (): Promise<void> => {
    const res = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] }));
    const wanted = new Map<string, Volume>();
    for (const v of res.Volumes ?? []) {
      const att = v.Attachments?.find((a) => a.InstanceId === instanceId);
      if (v.VolumeId && att && (att.State === 'attached' || att.State === 'attaching')) wanted.set(v.VolumeId, v);
    }
    for (const a of [...attached.values()]) if (!wanted.has(a.volumeId)) await tearDown(a);
    for (const [id, v] of wanted) {
      const a = attached.get(id);
      if (!a) await present(v);
      else if ((v.Size ?? 0) * GiB > a.bytes) await grow(a, (v.Size ?? 0) * GiB);
    }

    // Volumes and snapshots with a backing file: drop what EC2 no longer has; copy new snapshots.
    const { volumes, snapshots } = await backed();
    if (volumes.length === 0) return;
    const known = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'volume-id', Values: volumes }] }));
    const alive = new Set((known.Volumes ?? []).filter((v) => v.State !== 'deleted').map((v) => v.VolumeId));
    for (const id of volumes) {
      if (!alive.has(id) && !attached.has(id)) {
        await rm(fileOf(id), { force: true });
        log(`removed the backing file of deleted ${id}`);
      }
    }
    const snaps = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: volumes }] }));
    const liveSnaps = new Set<string>();
    for (const s of snaps.Snapshots ?? []) {
      if (!s.SnapshotId || !s.VolumeId) continue;
      liveSnaps.add(s.SnapshotId);
      if (!snapshots.includes(s.SnapshotId) && (await exists(fileOf(s.VolumeId)))) {
        // Never over a copy the EC2 proxy filed meanwhile (taken at the CreateSnapshot call, so earlier and right):
        // EXCL fails if it is there; a copy made here first is replaced by the proxy's when it lands.
        const copied = await copyFile(fileOf(s.VolumeId), fileOf(s.SnapshotId), constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL).then(
          () => true,
          (e: NodeJS.ErrnoException) => {
            if (e.code === 'EEXIST') return false;
            throw e;
          },
        );
        if (copied) log(`captured ${s.SnapshotId} of ${s.VolumeId}`);
      }
    }
    // A snapshot whose volume is gone is not in the filtered answer: ask for those by id.
    const orphans = snapshots.filter((id) => !liveSnaps.has(id));
    if (orphans.length > 0) {
      const left = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'snapshot-id', Values: orphans }] }));
      const still = new Set((left.Snapshots ?? []).map((s) => s.SnapshotId));
      for (const id of orphans) if (!still.has(id)) await rm(fileOf(id), { force: true });
    }
  };

  // One sync at a time; the poller and callers share it.
  let current: Promise<void> | undefined;
  const syncOnce = (): Promise<void> => {
    current ??= sync().finally(() => (current = undefined));
    return current;
  };

  let stopped = false;
  let lastError = '';
  const tick = async (): Promise<void> => {
    while (!stopped) {
      try {
        await syncOnce();
        lastError = '';
      } catch (err) {
        const msg = (err as Error).message;
        if (msg !== lastError) log(`poll failed: ${msg}`);
        lastError = msg;
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
    }
  };
  await syncOnce();
  const loop = tick();

  return {
    sync: async () => {
      await current?.catch(() => undefined);
      await syncOnce();
    },
    attached: () => attached,
    backingFile: fileOf,
    async captureForSnapshot(volumeId) {
      const file = fileOf(volumeId);
      if (!(await exists(file))) return () => Promise.resolve();
      const a = attached.get(volumeId);
      if (a) await run('blockdev', ['--flushbufs', a.device.loop.path]).catch(() => undefined);
      const pending = join(dataDir, `pending-${volumeId}-${Date.now()}.tmp`);
      await run('cp', ['--sparse=always', '--reflink=auto', file, pending]);
      return async (snapshotId) => {
        if (!snapshotId) return rm(pending, { force: true });
        await rename(pending, fileOf(snapshotId));
        log(`captured ${snapshotId} of ${volumeId} at CreateSnapshot`);
      };
    },
    async fillFromSnapshot(volumeId, snapshotId) {
      const from = fileOf(snapshotId);
      if ((await exists(fileOf(volumeId))) || !(await exists(from))) return;
      await copyFile(from, fileOf(volumeId), constants.COPYFILE_FICLONE);
      log(`filled ${volumeId} from ${snapshotId} at CreateVolume`);
    },
    async stop({ purge = false } = {}) {
      stopped = true;
      await loop;
      for (const a of [...attached.values()]) await tearDown(a);
      if (purge) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
