import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createFakeHost, detachAll } from '../../../../test/support/nvme.js';
import { CONTRACT_DEVICE_BYTES, hostOsContract } from './contract.js';
import { LinuxOs } from './linux.js';

afterAll(detachAll);

hostOsContract('LinuxOs on a loop device', async () => {
  const host = await createFakeHost();
  const volumeId = 'vol-0fedcba9876543210';
  const loop = await host.loop(CONTRACT_DEVICE_BYTES);
  const dev = await host.present(loop, { volumeId });
  return {
    os: new LinuxOs({ sysRoot: host.sysRoot, devRoot: host.devRoot }),
    volumeId,
    name: dev.name,
    scratch: await mkdtemp(join(host.root, 'scratch-')),
    grow: (bytes: number) => loop.grow(bytes),
    // ext4_error() with this text: counted in errors_count, recorded in first_error_*/last_error_*.
    triggerFsError: () => writeFile(`/sys/fs/ext4/${loop.path.replace('/dev/', '')}/trigger_fs_error`, 'plinth contract test'),
    cleanup: () => host.cleanup(),
  };
});
