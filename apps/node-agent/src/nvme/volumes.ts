import { isEbsModel } from '../device/identity.js';
import type { BlockEntry } from '../device/sysfs.js';
import type { HostOs } from '../os/host-os.js';

/** An EBS volume in use on this node, and its device node. */
export interface VolumeDevice {
  volumeId: string;
  /** The device node to read its log page from (<dev root>/nvme1n1). */
  device: string;
}

/** "vol0abc…" (the NVMe serial) → "vol-0abc…". */
const volumeIdOfSerial = (serial: string): string => (serial.startsWith('vol-') ? serial : serial.replace(/^vol/, 'vol-'));

const under = (path: string, root: string): boolean => path === root || path.startsWith(`${root}/`);

/**
 * The EBS volumes this node has staged or published under the kubelet root: a mount of an EBS NVMe device's
 * filesystem (staging path or bind), or a device node bound onto a file (a published raw block volume). The
 * volume id comes from the device's NVMe serial in sysfs, the identity staging proves. As aws-ebs-csi-driver's
 * collector, which takes the devices mounted under the kubelet's CSI directory.
 */
export async function volumesInUse(os: HostOs, kubeletRoot: string): Promise<VolumeDevice[]> {
  const mounts = (await os.mounts()).filter((m) => under(m.mountPoint, kubeletRoot));
  if (mounts.length === 0) return [];
  const ebs = new Map<string, BlockEntry & { serial: string }>();
  for (const e of await os.blockDevices())
    if (e.serial?.startsWith('vol') && e.model !== undefined && isEbsModel(e.model)) ebs.set(e.majMin, { ...e, serial: e.serial });

  const found = new Map<string, BlockEntry & { serial: string }>();
  for (const m of mounts) {
    let entry = ebs.get(m.majMin);
    // A raw block publish: the mount is of the /dev filesystem, the device is the node bound onto the target file.
    if (!entry && m.root !== '/') {
      const info = await os.pathInfo(m.mountPoint).catch(() => undefined);
      if (info?.kind === 'block' && info.majMin) entry = ebs.get(info.majMin);
    }
    if (entry) found.set(entry.name, entry);
  }
  const out: VolumeDevice[] = [];
  for (const e of found.values()) {
    const node = await os.deviceNode(e.name);
    if (node && node.majMin === e.majMin) out.push({ volumeId: volumeIdOfSerial(e.serial), device: node.path });
  }
  return out.sort((a, b) => a.volumeId.localeCompare(b.volumeId));
}
