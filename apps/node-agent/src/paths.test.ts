import { describe, expect, it } from 'vitest';
import { PlinthError } from '@plinth/errors';
import { validatePath, volumePathOf } from './paths.js';

const root = '/var/lib/kubelet';
const bad = (p: string): PlinthError => {
  try {
    validatePath('target_path', p, root);
  } catch (e) {
    return e as PlinthError;
  }
  throw new Error(`accepted ${p}`);
};

describe('validatePath', () => {
  it('accepts an absolute normalised path under the kubelet root', () => {
    expect(validatePath('target_path', '/var/lib/kubelet/pods/x/volumes/mount', root)).toBe('/var/lib/kubelet/pods/x/volumes/mount');
  });
  it('rejects relative, unnormalised, escaping and foreign paths, naming the field', () => {
    for (const p of [
      '',
      'pods/x',
      '/var/lib/kubelet/../../etc',
      '/var/lib/kubelet//x',
      '/var/lib/kubelet/x/',
      '/etc/passwd',
      '/var/lib/kubelet',
      '/var/lib/kubeletx/y',
    ]) {
      const e = bad(p);
      expect(e.kind).toBe('InvalidArgument');
      expect(e.message).toContain('target_path');
    }
  });
});

describe('volumePathOf', () => {
  const kindOf = (p: string): string => {
    try {
      volumePathOf(p, 'vol-1', root);
    } catch (e) {
      return (e as PlinthError).kind;
    }
    return 'ok';
  };

  it('finds no volume of ours at a relative path or outside the kubelet root, and refuses traversal', () => {
    expect(kindOf('some/path')).toBe('NotFound');
    expect(kindOf('/etc/passwd')).toBe('NotFound');
    expect(kindOf('/var/lib/kubelet/../x')).toBe('InvalidArgument');
    expect(kindOf('/var/lib/kubelet/pods/x/volumes/mount')).toBe('ok');
  });
});
