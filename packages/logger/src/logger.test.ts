import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl, stripSecrets } from './index.js';

function capture(): { stream: Writable; lines: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines: () => chunks.join('') };
}

describe('stripSecrets', () => {
  it('replaces CSI secrets maps at any depth and keeps the rest', () => {
    const req = {
      name: 'pvc-1',
      secrets: { 'csi.storage.k8s.io/foo': 'hunter2' },
      nested: { controllerPublishSecrets: { k: 'v' }, keep: 1 },
      list: [{ secrets: { a: 'b' } }],
    };
    const out = JSON.stringify(stripSecrets(req));
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('"v"');
    expect(out).not.toContain('"b"');
    expect(out).toContain('pvc-1');
    expect(out).toContain('"keep":1');
  });

  it('leaves empty secrets maps visible as empty', () => {
    expect(stripSecrets({ secrets: {} })).toEqual({ secrets: {} });
  });
});

describe('createLogger', () => {
  it('redacts secrets and credentials from log lines', () => {
    const { stream, lines } = capture();
    const log = createLogger({ name: 't', destination: stream });
    log.info({ req: { secrets: { key: 'hunter2' } }, aws: { secretAccessKey: 'AKIAxyz' } }, 'call');
    expect(lines()).not.toContain('hunter2');
    expect(lines()).not.toContain('AKIAxyz');
    expect(lines()).toContain('[REDACTED]');
  });
});

describe('redactUrl', () => {
  it('hides the password of a Redis URL', () => {
    expect(redactUrl('redis://:s3cret@127.0.0.1:6379/0')).not.toContain('s3cret');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
