import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityService, serveUnix, unary, type UnixServer } from '@plinth/csi';
import { createLogger } from '@plinth/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { serveHealthz } from './healthz.js';

const silent = createLogger({ name: 't', level: 'silent' });

describe('built-in /healthz (what livenessprobe serves)', () => {
  let dir = '';
  let csi: UnixServer | undefined;
  let http: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    await csi?.close(1000);
    await rm(dir, { recursive: true, force: true });
  });

  /** A CSI Identity service on a real socket whose Probe answers `ready`. */
  const start = async (ready: () => boolean) => {
    dir = await mkdtemp(join(tmpdir(), 'plinth-healthz-'));
    const socket = join(dir, 'csi.sock');
    const identity = {
      getPluginInfo: unary('GetPluginInfo', () => Promise.resolve({ name: 'x', vendorVersion: '1', manifest: {} }), silent),
      getPluginCapabilities: unary('GetPluginCapabilities', () => Promise.resolve({ capabilities: [] }), silent),
      probe: unary('Probe', () => Promise.resolve({ ready: ready() }), silent),
    };
    csi = await serveUnix(socket, [{ definition: IdentityService, implementation: identity }], silent);
    http = await serveHealthz(`unix://${socket}`, { host: '127.0.0.1', port: 0 }, silent);
    return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  };

  it('answers 200 while Probe answers ready through the socket, 500 when not ready', async () => {
    let ready = true;
    const url = await start(() => ready);
    const ok = await fetch(`${url}/healthz`);
    expect([ok.status, await ok.text()]).toEqual([200, 'ok']);
    ready = false;
    expect((await fetch(`${url}/healthz`)).status).toBe(500);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
  });

  it('answers 500 naming the failure once the CSI socket is gone', async () => {
    const url = await start(() => true);
    await csi?.close(1000);
    csi = undefined;
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/^Probe failed: /);
  });
});
