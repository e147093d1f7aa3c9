import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('node-agent config', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      CSI_ENDPOINT: 'unix:///csi/csi.sock',
      PLINTH_DRIVER_NAME: 'ebs.csi.plinth.dev',
      IMDS_ENDPOINT: 'http://169.254.169.254',
      IMDS_DISABLED: false,
      METADATA_SOURCES: ['imds', 'kubernetes', 'env'],
      KUBELET_ROOT: '/var/lib/kubelet',
      SYSFS_ROOT: '/sys',
      DEV_ROOT: '/dev',
      DEVICE_WAIT_MS: 20_000,
      HEALTH_IO_TIMEOUT_MS: 5_000,
      LOG_LEVEL: 'info',
    });
    expect(c.MAX_VOLUMES_PER_NODE).toBeUndefined();
    expect(c.REDIS_URL).toBeUndefined();
    expect(c.METRICS_ADDRESS).toBeUndefined();
    // Built-in registration and /healthz are off unless asked for (the chart's sidecars do both by default).
    expect(c.REGISTRATION_DIR).toBeUndefined();
    expect(c.HEALTHZ_ADDRESS).toBeUndefined();
  });

  it('turns on built-in registration and /healthz', () => {
    const c = loadConfig({ REGISTRATION_DIR: '/registration', DRIVER_REG_SOCK_PATH: '/var/lib/kubelet/plugins/x/csi.sock', HEALTHZ_ADDRESS: ':9808' });
    expect(c.REGISTRATION_DIR).toBe('/registration');
    expect(c.DRIVER_REG_SOCK_PATH).toBe('/var/lib/kubelet/plugins/x/csi.sock');
    expect(c.HEALTHZ_ADDRESS).toEqual({ host: '0.0.0.0', port: 9808 });
    expect(() => loadConfig({ REGISTRATION_DIR: 'registration', DRIVER_REG_SOCK_PATH: 'csi.sock' })).toThrow(/REGISTRATION_DIR[\s\S]*DRIVER_REG_SOCK_PATH/);
  });

  it('parses explicit values', () => {
    const c = loadConfig({
      NODE_ID: 'i-0123',
      NODE_ZONE: 'us-east-1a',
      METADATA_SOURCES: 'env, imds',
      KUBELET_ROOT: '/tmp/k/',
      MAX_VOLUMES_PER_NODE: '17',
      METRICS_ADDRESS: ':9809',
      IMDS_DISABLED: 'true',
      HEALTH_IO_TIMEOUT_MS: '2500',
    });
    expect(c.HEALTH_IO_TIMEOUT_MS).toBe(2500);
    expect(c.METADATA_SOURCES).toEqual(['env', 'imds']);
    expect(c.KUBELET_ROOT).toBe('/tmp/k');
    expect(c.MAX_VOLUMES_PER_NODE).toBe(17);
    expect(c.METRICS_ADDRESS).toEqual({ host: '0.0.0.0', port: 9809 });
    expect(c.IMDS_DISABLED).toBe(true);
  });

  it('names every bad variable at once', () => {
    expect(() =>
      loadConfig({ METADATA_SOURCES: 'imds,gce', KUBELET_ROOT: 'relative', MAX_VOLUMES_PER_NODE: '0', METRICS_ADDRESS: 'nope', HEALTH_IO_TIMEOUT_MS: '10' }),
    ).toThrow(/METADATA_SOURCES[\s\S]*KUBELET_ROOT[\s\S]*HEALTH_IO_TIMEOUT_MS[\s\S]*MAX_VOLUMES_PER_NODE[\s\S]*METRICS_ADDRESS/);
  });

  it('runs nvme-cli from PATH unless NVME_CLI names another (the emulated Nitro host has its own)', () => {
    expect(loadConfig({}).NVME_CLI).toBe('nvme');
    expect(loadConfig({ NVME_CLI: '' }).NVME_CLI).toBe('nvme');
    expect(loadConfig({ NVME_CLI: '/tmp/host/bin/nvme' }).NVME_CLI).toBe('/tmp/host/bin/nvme');
  });
});
