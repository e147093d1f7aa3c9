import { CONTRACT_DEVICE_BYTES, hostOsContract } from './contract.js';
import { FakeOs } from './fake.js';

hostOsContract('FakeOs', () => {
  const os = new FakeOs();
  const volumeId = 'vol-0123456789abcdef0';
  const dev = os.addDevice({ volumeId, size: CONTRACT_DEVICE_BYTES });
  os.addDir('/scratch');
  return Promise.resolve({
    os,
    volumeId,
    name: dev.name,
    scratch: '/scratch',
    grow: (bytes: number) => Promise.resolve(os.grow(dev.name, bytes)),
    triggerFsError: () => Promise.resolve(os.fsError(dev.name)),
    cleanup: () => Promise.resolve(),
  });
});
