import { describe, expect, it } from 'vitest';
import { fakeContext, mountCap, stagingOf, VOL } from './fake-context.js';
import { explainOsErrors } from './service.js';
import { nodeStageVolume } from './stage.js';

describe('explainOsErrors', () => {
  it('turns a file-system errno error into INTERNAL naming the RPC, syscall and path', async () => {
    const { ctx, os } = fakeContext();
    os.addDevice({ volumeId: VOL });
    const parent = stagingOf(VOL).replace(/\/globalmount$/, '');
    os.addFile(parent, 10); // a file where a directory should be
    const stage = explainOsErrors('NodeStageVolume', nodeStageVolume);
    await expect(
      stage(ctx, { volumeId: VOL, stagingTargetPath: stagingOf(VOL), volumeCapability: mountCap(), publishContext: {}, secrets: {}, volumeContext: {} }),
    ).rejects.toMatchObject({
      kind: 'Internal',
      message: `NodeStageVolume: mkdir ${stagingOf(VOL)} failed with ENOTDIR`,
    });
    expect(os.callsOf('mount')).toEqual([]);
  });
});
