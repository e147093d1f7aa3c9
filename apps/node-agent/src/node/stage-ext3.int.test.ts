/** An ext3 volume (a real mkfs.ext3'd loop device dressed as EBS) staged with fsType ext4: mounted as it is, data intact. */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcError, mountCap, newVolumeId, startTestAgent, type TestAgent } from '../../../../test/support/node-agent.js';
import { createFakeHost, detachAll, type FakeHost } from '../../../../test/support/nvme.js';
import { mountAt } from '../mount/mountinfo.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;
const blkidType = async (dev: string): Promise<string> => (await exec('blkid', ['-p', '-s', 'TYPE', '-o', 'value', dev])).stdout.trim();

describe('NodeStageVolume of an older ext filesystem under an ext4 class', () => {
  let host: FakeHost;
  let t: TestAgent;
  beforeAll(async () => {
    host = await createFakeHost();
    t = await startTestAgent(host);
  });
  afterAll(async () => {
    await t?.close();
    await host?.cleanup();
    await detachAll();
  });

  const staging = (volumeId: string): string => join(host.kubeletRoot, 'plugins/kubernetes.io/csi/ebs.csi.plinth.dev', volumeId, 'globalmount');
  const stage = (volumeId: string, fsType: string) =>
    t.api.stage({ volumeId, stagingTargetPath: staging(volumeId), volumeCapability: mountCap(fsType), publishContext: {}, secrets: {}, volumeContext: {} });

  /** A loop device presented as `volumeId`, made `fs` by hand, with hello.txt written on it. */
  const volumeWith = async (volumeId: string, fs: string): Promise<string> => {
    const loop = await host.loop(64 * MiB);
    await exec(`mkfs.${fs}`, ['-q', '-F', loop.path], { timeout: 60_000 });
    const point = join(host.root, `pre-${volumeId}`);
    await mkdir(point);
    await exec('mount', ['-t', fs, loop.path, point]);
    await writeFile(join(point, 'hello.txt'), `written on ${fs}`);
    await exec('umount', [point]);
    await host.present(loop, { volumeId });
    return loop.path;
  };

  it('mounts an ext3 volume staged as ext4 without formatting it: the file written before is there, idempotently', async () => {
    const volumeId = newVolumeId();
    const dev = await volumeWith(volumeId, 'ext3');
    await stage(volumeId, 'ext4');
    expect(await readFile(join(staging(volumeId), 'hello.txt'), 'utf8')).toBe('written on ext3');
    expect(await blkidType(dev)).toBe('ext3');
    expect(await mountAt(staging(volumeId))).toMatchObject({ fsType: 'ext4' });
    await stage(volumeId, 'ext4'); // idempotent: the mount list says ext4
    await writeFile(join(staging(volumeId), 'after.txt'), 'ok');
    await t.api.unstage({ volumeId, stagingTargetPath: staging(volumeId) });
    expect(await blkidType(dev)).toBe('ext3');
    await stage(volumeId, 'ext4');
    expect(await readFile(join(staging(volumeId), 'after.txt'), 'utf8')).toBe('ok');
    await t.api.unstage({ volumeId, stagingTargetPath: staging(volumeId) });
  });

  it('refuses an ext4 volume staged as ext3 (the ext3 driver cannot read it): FAILED_PRECONDITION, the volume untouched', async () => {
    const volumeId = newVolumeId();
    const dev = await volumeWith(volumeId, 'ext4');
    const err = await grpcError(stage(volumeId, 'ext3'));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe(`volume ${volumeId} already contains ext4, not ext3; refusing to reformat it`);
    expect(await blkidType(dev)).toBe('ext4');
    expect(await mountAt(staging(volumeId))).toBeUndefined();
  });
});
