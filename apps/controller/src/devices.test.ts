import { describe, expect, it } from 'vitest';
import { deviceNamesContract } from './devices-contract.js';
import { deviceNames, MemoryDeviceNames, normalise } from './devices.js';

describe('device names', () => {
  it('runs /dev/xvdaa … /dev/xvdzz without repeats', () => {
    const names = deviceNames();
    expect(names[0]).toBe('/dev/xvdaa');
    expect(names[1]).toBe('/dev/xvdab');
    expect(names.at(-1)).toBe('/dev/xvdzz');
    expect(new Set(names).size).toBe(26 * 26);
  });

  it('compares EC2 device spellings in one form', () => {
    expect(normalise('xvdaa')).toBe('/dev/xvdaa');
    expect(normalise('/dev/sdaa')).toBe('/dev/xvdaa');
    expect(normalise('/dev/xvdab')).toBe('/dev/xvdab');
  });
});

describe('device names in memory (the unit tests’ allocator)', () => {
  deviceNamesContract(() => new MemoryDeviceNames());
});
