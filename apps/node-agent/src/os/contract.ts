/**
 * One suite of cases that holds FakeOs to LinuxOs: run against the fake in
 * the unit project (fake.test.ts) and against LinuxOs on a real loop device
 * in the integration project (linux.int.test.ts).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GROW_SLACK_BYTES } from '../mount/resize.js';
import { mountAt, type HostOs } from './host-os.js';

export const CONTRACT_DEVICE_BYTES = 64 * 1024 * 1024;

/** A host with one blank EBS volume of CONTRACT_DEVICE_BYTES attached. */
export interface ContractHost {
  os: HostOs;
  volumeId: string;
  /** The device's name under the dev root (nvmeNn1). */
  name: string;
  /** An existing empty directory to make mount points in. */
  scratch: string;
  /** Grows the device (the volume was modified). */
  grow(bytes: number): Promise<void>;
  /** The kernel records an error in the device's mounted ext4 filesystem (/sys/fs/ext4/<dev>/trigger_fs_error). */
  triggerFsError(): Promise<void>;
  cleanup(): Promise<void>;
}

export function hostOsContract(label: string, setup: () => Promise<ContractHost>): void {
  describe(`HostOs contract: ${label}`, () => {
    let h: ContractHost;
    let dev: string;
    beforeEach(async () => {
      h = await setup();
      const node = await h.os.deviceNode(h.name);
      if (!node) throw new Error(`no device node ${h.name}`);
      dev = node.path;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('lists the device in sysfs with its serial and model, and finds it by its by-id link', async () => {
      const node = await h.os.deviceNode(h.name);
      const entry = (await h.os.blockDevices()).find((e) => e.name === h.name);
      expect(entry).toMatchObject({ majMin: node?.majMin, serial: h.volumeId.replace('vol-', 'vol'), model: 'Amazon Elastic Block Store' });
      const byId = await h.os.deviceNode(`disk/by-id/nvme-Amazon_Elastic_Block_Store_${h.volumeId.replace('vol-', 'vol')}`);
      expect(byId).toEqual(node);
      // One entry read by name is the entry the scan lists.
      expect(await h.os.blockDevice(h.name)).toEqual(entry);
      expect(await h.os.blockDevice('nvme-not-there')).toBeUndefined();
      expect(await h.os.deviceNode('nvme-not-there')).toBeUndefined();
      expect(await h.os.deviceSize(dev)).toBe(CONTRACT_DEVICE_BYTES);
      expect(await h.os.pathInfo(dev)).toMatchObject({ kind: 'block', majMin: node?.majMin });
    });

    it('a blank device probes as nothing; after mkfs.ext4 it probes as ext4 of about the device size', async () => {
      expect(await h.os.probe(dev)).toEqual({ type: '', ptType: '' });
      await h.os.mkfs('ext4', dev, {});
      expect(await h.os.probe(dev)).toEqual({ type: 'ext4', ptType: '' });
      const size = await h.os.filesystemSize('ext4', dev);
      expect(size).toBeLessThanOrEqual(CONTRACT_DEVICE_BYTES);
      expect(CONTRACT_DEVICE_BYTES - size).toBeLessThanOrEqual(GROW_SLACK_BYTES);
    });

    it('a mount appears in the mount list with the device number; unmount removes it', async () => {
      await h.os.mkfs('ext4', dev, {});
      const point = join(h.scratch, 'staging');
      await h.os.mkdir(point);
      await h.os.mount(dev, point, 'ext4', ['defaults', 'noatime']);
      const node = await h.os.deviceNode(h.name);
      const m = await mountAt(h.os, point);
      expect(m).toMatchObject({ majMin: node?.majMin, fsType: 'ext4', root: '/' });
      expect(m?.mountOptions).toEqual(expect.arrayContaining(['rw', 'noatime']));
      expect(await h.os.pathInfo(point)).toMatchObject({ kind: 'directory' });
      const fs = await h.os.statfs(point);
      expect(fs.blocks * fs.bsize).toBeGreaterThan(CONTRACT_DEVICE_BYTES / 2);
      expect(fs.files).toBeGreaterThan(fs.ffree);

      const bound = join(h.scratch, 'target');
      await h.os.mkdir(bound);
      await h.os.bindMount(point, bound, true, []);
      expect(await mountAt(h.os, bound)).toMatchObject({ majMin: node?.majMin, fsType: 'ext4' });
      expect((await mountAt(h.os, bound))?.mountOptions).toContain('ro');
      await h.os.unmount(bound);
      await h.os.unmount(point);
      expect(await mountAt(h.os, point)).toBeUndefined();
      expect(await mountAt(h.os, bound)).toBeUndefined();
    });

    it('unmounting a path with nothing mounted fails with FAILED_PRECONDITION and changes nothing', async () => {
      const before = await h.os.mounts();
      await expect(h.os.unmount(h.scratch)).rejects.toMatchObject({ kind: 'FailedPrecondition' });
      expect(await h.os.mounts()).toEqual(before);
    });

    it('a device node binds onto a file, which then reads as that block device', async () => {
      const file = join(h.scratch, 'block');
      await h.os.createFile(file);
      expect(await h.os.pathInfo(file)).toEqual({ kind: 'file', size: 0 });
      await h.os.bindMount(dev, file, false, []);
      const node = await h.os.deviceNode(h.name);
      expect(await h.os.pathInfo(file)).toMatchObject({ kind: 'block', majMin: node?.majMin });
      expect(await h.os.deviceSize(file)).toBe(CONTRACT_DEVICE_BYTES);
      await h.os.unmount(file);
      await h.os.removeFile(file);
      expect(await h.os.pathInfo(file)).toBeUndefined();
    });

    it('grows an unmounted ext4 filesystem to the grown device', async () => {
      await h.os.mkfs('ext4', dev, {});
      await h.grow(2 * CONTRACT_DEVICE_BYTES);
      expect(await h.os.deviceSize(dev)).toBe(2 * CONTRACT_DEVICE_BYTES);
      expect(await h.os.filesystemSize('ext4', dev)).toBeLessThanOrEqual(CONTRACT_DEVICE_BYTES);
      await h.os.growOffline(dev);
      expect(2 * CONTRACT_DEVICE_BYTES - (await h.os.filesystemSize('ext4', dev))).toBeLessThanOrEqual(GROW_SLACK_BYTES);
    });

    it('refuses to mkfs a mounted device, and to rmdir a directory that is not empty', async () => {
      await h.os.mkfs('ext4', dev, {});
      const point = join(h.scratch, 'm');
      await h.os.mkdir(point);
      await h.os.mount(dev, point, 'ext4', ['defaults']);
      await expect(h.os.mkfs('ext4', dev, {})).rejects.toMatchObject({ kind: 'Internal' });
      await h.os.unmount(point);
      await h.os.mkdir(join(point, 'inner'));
      await expect(h.os.removeDir(point)).rejects.toMatchObject({ code: 'ENOTEMPTY' });
      await h.os.removeDir(join(point, 'inner'));
      await h.os.removeDir(point);
      expect(await h.os.pathInfo(point)).toBeUndefined();
    });

    it('the ext4 driver mounts ext3 (the mount list then says ext4), which ext tools size; nothing mounts a blank device', async () => {
      await h.os.mkfs('ext3', dev, {});
      expect(await h.os.probe(dev)).toEqual({ type: 'ext3', ptType: '' });
      expect(CONTRACT_DEVICE_BYTES - (await h.os.filesystemSize('ext4', dev))).toBeLessThanOrEqual(GROW_SLACK_BYTES);
      const point = join(h.scratch, 'old');
      await h.os.mkdir(point);
      await h.os.mount(dev, point, 'ext4', ['defaults']);
      expect(await mountAt(h.os, point)).toMatchObject({ fsType: 'ext4' });
      await h.os.unmount(point);
    });

    it('mounting a blank device fails Internal and mounts nothing', async () => {
      const point = join(h.scratch, 'blank');
      await h.os.mkdir(point);
      await expect(h.os.mount(dev, point, 'ext4', ['defaults'])).rejects.toMatchObject({ kind: 'Internal' });
      expect(await mountAt(h.os, point)).toBeUndefined();
    });

    it('a device that is not an EBS NVMe controller has no EBS log page: reading it fails Internal, naming the device', async () => {
      await expect(h.os.ebsLogPage(dev)).rejects.toMatchObject({ kind: 'Internal', message: expect.stringContaining(dev) as string });
    });

    it('mkdir through a file is an errno error naming the syscall; realpath resolves links', async () => {
      const file = join(h.scratch, 'file');
      await h.os.createFile(file);
      await expect(h.os.mkdir(join(file, 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR', syscall: 'mkdir' });
      await expect(h.os.realpath(join(h.scratch, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await h.os.realpath(h.scratch)).toBe(h.scratch);
    });

    it('heartbeats the device; a path that is no device fails the read', async () => {
      expect(await h.os.readProbe(dev, 10_000)).toMatchObject({ kind: 'ok' });
      const missing = await h.os.readProbe(join(h.scratch, 'missing'), 10_000);
      expect(missing.kind).toBe('error');
      expect(missing.kind === 'error' && missing.message).toContain('No such file or directory');
    });

    it("a mounted ext4 has an error record: none at first, the kernel's error counted; a directory reads, a missing one is ENOENT", async () => {
      const majMin = (await h.os.deviceNode(h.name))!.majMin;
      expect(await h.os.filesystemErrors(majMin)).toBeUndefined();
      await h.os.mkfs('ext4', dev, {});
      const point = join(h.scratch, 'fs');
      await h.os.mkdir(point);
      await h.os.mount(dev, point, 'ext4', ['defaults']);
      expect(await h.os.filesystemErrors(majMin)).toEqual({ count: 0, first: undefined, last: undefined });
      await h.os.readDir(point, 10_000);
      await expect(h.os.readDir(join(h.scratch, 'missing'), 10_000)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'opendir' });
      await h.triggerFsError();
      const errors = await h.os.filesystemErrors(majMin);
      expect(errors?.count).toBe(1);
      expect(errors?.first).toBeTruthy();
      await h.os.unmount(point);
      expect(await h.os.filesystemErrors(majMin)).toBeUndefined();
    });
  });
}
