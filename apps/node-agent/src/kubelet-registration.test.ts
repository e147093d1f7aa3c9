import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { callUnary, RegistrationClient } from '@plinth/csi';
import { createLogger } from '@plinth/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { serveKubeletRegistration, type KubeletRegistration } from './kubelet-registration.js';

const silent = createLogger({ name: 't', level: 'silent' });

describe('built-in kubelet registration (what the kubelet plugin watcher asks)', () => {
  let dir = '';
  let reg: KubeletRegistration | undefined;
  let client: RegistrationClient | undefined;
  afterEach(async () => {
    client?.close();
    await reg?.server.close(1000);
    await rm(dir, { recursive: true, force: true });
  });

  const start = async () => {
    dir = await mkdtemp(join(tmpdir(), 'plinth-reg-'));
    reg = await serveKubeletRegistration({
      dir,
      driverName: 'ebs.csi.plinth.dev',
      csiSocketOnHost: '/var/lib/kubelet/plugins/ebs.csi.plinth.dev/csi.sock',
      log: silent,
    });
    const sock = join(dir, 'ebs.csi.plinth.dev-reg.sock');
    client = new RegistrationClient(`unix://${sock}`, credentials.createInsecure());
    return { reg, client, sock };
  };

  it('serves <driver>-reg.sock (mode 0600) and names the driver and its CSI socket on the host in GetInfo', async () => {
    const { client, sock } = await start();
    expect((await stat(sock)).mode & 0o777).toBe(0o600);
    const info = await callUnary(client, 'getInfo', {});
    expect(info).toEqual({
      type: 'CSIPlugin',
      name: 'ebs.csi.plinth.dev',
      endpoint: '/var/lib/kubelet/plugins/ebs.csi.plinth.dev/csi.sock',
      supportedVersions: ['1.0.0'],
    });
  });

  it("keeps the kubelet's verdict, refusals included", async () => {
    const { reg, client } = await start();
    expect(reg.status()).toBeUndefined();
    await callUnary(client, 'notifyRegistrationStatus', { pluginRegistered: false, error: 'no CSI endpoint' });
    expect(reg.status()).toEqual({ pluginRegistered: false, error: 'no CSI endpoint' });
    await callUnary(client, 'notifyRegistrationStatus', { pluginRegistered: true, error: '' });
    expect(reg.status()?.pluginRegistered).toBe(true);
  });
});
