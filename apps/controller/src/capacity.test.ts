import { describe, expect, it } from 'vitest';
import { GiB, sizeInGiB } from './capacity.js';

const size = (requiredBytes: number, limitBytes: number, min = 1) => sizeInGiB({ requiredBytes, limitBytes }, min, 16384, 100);

describe('capacity rounding', () => {
  it('rounds required bytes up to whole GiB', () => {
    expect(size(1, 0)).toBe(1);
    expect(size(GiB, 0)).toBe(1);
    expect(size(GiB + 1, 0)).toBe(2);
    expect(size(10 * GiB, 10 * GiB)).toBe(10);
  });

  it('uses the default, or what the limit allows, when nothing is required', () => {
    expect(sizeInGiB(undefined, 1, 16384, 100)).toBe(100);
    expect(size(0, 5 * GiB)).toBe(5);
  });

  it("raises to the type's minimum when the limit allows", () => {
    expect(size(GiB, 0, 4)).toBe(4);
    expect(() => size(GiB, 2 * GiB, 4)).toThrow(/no whole GiB size ≥ 4 GiB fits/);
  });

  it('is OUT_OF_RANGE when no whole GiB fits', () => {
    const err = (() => {
      try {
        size(GiB + 1, GiB + 100);
      } catch (e) {
        return e as { kind: string };
      }
    })();
    expect(err?.kind).toBe('OutOfRange');
    expect(() => size(3 * GiB, 2 * GiB)).toThrow(/more than limit_bytes/);
    expect(() => sizeInGiB({ requiredBytes: 20000 * GiB, limitBytes: 0 }, 1, 16384, 100)).toThrow(/16384 GiB maximum/);
  });
});
