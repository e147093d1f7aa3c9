import { describe, expect, it } from 'vitest';
import {
  CONFIG_EXIT_CODE,
  ConfigError,
  csiDriverName,
  envBool,
  envInt,
  hostPort,
  LOG_LEVELS,
  logLevel,
  parseEnv,
  sharedEnv,
  splitHostPort,
  z,
} from './index.js';

const schema = z.object({ PORT: envInt(80, { min: 1, max: 65535 }), DEBUG: envBool(false), NAME: z.string().min(1) });

describe('parseEnv', () => {
  it('applies defaults and converts types', () => {
    expect(parseEnv(schema, { NAME: 'x' })).toEqual({ PORT: 80, DEBUG: false, NAME: 'x' });
    expect(parseEnv(schema, { NAME: 'x', PORT: '8080', DEBUG: 'true' })).toEqual({ PORT: 8080, DEBUG: true, NAME: 'x' });
  });

  it('names every bad variable in one error', () => {
    let err: unknown;
    try {
      parseEnv(schema, { PORT: '0', DEBUG: 'maybe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('PORT');
    expect(msg).toContain('DEBUG');
    expect(msg).toContain('NAME');
  });
});

describe('ConfigError', () => {
  it('carries the one exit code every Plinth process uses for bad configuration', () => {
    expect(CONFIG_EXIT_CODE).toBe(2);
    expect(new ConfigError('x').exitCode).toBe(CONFIG_EXIT_CODE);
    expect(new ConfigError('x').name).toBe('ConfigError');
  });
});

describe('hostPort', () => {
  const s = z.object({ A: hostPort() });
  const ok = (v: string) => s.safeParse({ A: v }).success;

  it('takes host:port, names and bracketed IPv6', () => {
    for (const v of ['127.0.0.1:8080', 'localhost:0', 'metrics.local:65535', '[::1]:9443', '[fe80::1]:80', '[::ffff:10.0.0.1]:80']) expect(ok(v), v).toBe(true);
  });

  it('refuses a missing port, a port above 65535, bare IPv6 and spaces', () => {
    for (const v of ['nope', '127.0.0.1', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:123456', '::1:8080', '[::1]', '[abc]:80', 'a b:80', ':8080', ''])
      expect(ok(v), v).toBe(false);
  });

  it('takes :port only when asked to', () => {
    expect(z.object({ A: hostPort({ allowEmptyHost: true }) }).safeParse({ A: ':9809' }).success).toBe(true);
    expect(ok(':9809')).toBe(false);
  });

  it('names the variable and the expected form', () => {
    expect(() => parseEnv(s, { A: 'nope' })).toThrow(/A: expected host:port .*\[::1\]:8080/);
  });

  it('splits into host and port', () => {
    expect(splitHostPort('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(splitHostPort('[::1]:9443')).toEqual({ host: '::1', port: 9443 });
    expect(splitHostPort(':9809', { allowEmptyHost: true })).toEqual({ host: '', port: 9809 });
    expect(splitHostPort(':9809')).toBeUndefined();
    expect(splitHostPort('x:70000')).toBeUndefined();
  });
});

describe('logLevel', () => {
  const s = z.object({ LOG_LEVEL: logLevel });
  it("takes pino's levels and silent, default info", () => {
    expect(parseEnv(s, {}).LOG_LEVEL).toBe('info');
    for (const l of LOG_LEVELS) expect(parseEnv(s, { LOG_LEVEL: l }).LOG_LEVEL).toBe(l);
    expect([...LOG_LEVELS].sort()).toEqual(['debug', 'error', 'fatal', 'info', 'silent', 'trace', 'warn']);
  });
  it('refuses anything else', () => {
    for (const l of ['verbose', 'INFO', 'warning', '']) expect(() => parseEnv(s, { LOG_LEVEL: l }), l).toThrow(/LOG_LEVEL/);
  });
});

describe('csiDriverName', () => {
  const s = z.object({ PLINTH_DRIVER_NAME: csiDriverName });
  const ok = (v: string) => s.safeParse({ PLINTH_DRIVER_NAME: v }).success;

  it('defaults to ebs.csi.plinth.dev', () => {
    expect(parseEnv(s, {}).PLINTH_DRIVER_NAME).toBe('ebs.csi.plinth.dev');
  });

  it('takes CSI names: alphanumerics at both ends, dashes, dots and underscores between, up to 63 characters', () => {
    for (const v of ['a', 'ebs.csi.aws.com', 'Plinth_Driver-2.example', 'x'.repeat(63), `a${'-._'.repeat(20)}b`]) expect(ok(v), v).toBe(true);
  });

  it('refuses longer names, bad ends and other characters', () => {
    for (const v of ['', 'x'.repeat(64), '-ebs.csi', 'ebs.csi.', '_a', 'a_', 'ebs/csi', 'ebs csi', 'ébs.csi']) expect(ok(v), v).toBe(false);
  });

  it('is what sharedEnv uses', () => {
    expect(sharedEnv.PLINTH_DRIVER_NAME).toBe(csiDriverName);
  });
});
