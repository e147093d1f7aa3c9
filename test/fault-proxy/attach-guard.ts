import { field, topLevelItems } from './xml.js';

/**
 * EC2 refuses AttachVolume for a volume that is already attached (VolumeInUse), to any instance unless the volume
 * has Multi-Attach, and to the same instance always. moto accepts it and quietly moves the attachment to the new
 * instance, so a driver relying on EC2's refusal would look right on LocalStack while attaching twice. This guard
 * answers as EC2 does: from the volume's attachments upstream, and for two attaches of one volume in flight at once
 * (EC2 decides them one at a time), by refusing the second.
 */
export class AttachGuard {
  private readonly inFlight = new Set<string>();

  /**
   * The refusal EC2 would give an AttachVolume of `volumeId` to `instanceId`, given DescribeVolumes' answer for it
   * upstream; otherwise undefined, and the attach counts as in flight until `settled`.
   */
  check(volumeId: string, instanceId: string, describeXml: string): { code: string; message: string } | undefined {
    const refused = { code: 'VolumeInUse', message: `${volumeId} is already attached to an instance` };
    if (this.inFlight.has(volumeId)) return refused;
    const volume = topLevelItems(describeXml, 'volumeSet').find((v) => field(v.text, 'volumeId') === volumeId)?.text;
    if (volume) {
      const multiAttach = field(volume, 'multiAttachEnabled') === 'true';
      const attachments = topLevelItems(volume, 'attachmentSet')
        .map((a) => ({ instanceId: field(a.text, 'instanceId'), status: field(a.text, 'status') }))
        .filter((a) => a.status === 'attached' || a.status === 'attaching');
      if (attachments.some((a) => !multiAttach || a.instanceId === instanceId)) return refused;
    }
    this.inFlight.add(volumeId);
    return undefined;
  }

  settled(volumeId: string): void {
    this.inFlight.delete(volumeId);
  }
}
