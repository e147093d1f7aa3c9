import { field, topLevelItems } from './xml.js';

/**
 * EC2 refuses AttachVolume for a volume that is already attached (VolumeInUse), to any instance unless the volume
 * has Multi-Attach, and to the same instance always. moto accepts it and quietly moves the attachment to the new
 * instance, so a driver relying on EC2's refusal would look right on LocalStack while attaching twice. This guard
 * answers as EC2 does: from the volume's attachments upstream, and for two attaches of one volume in flight at once
 * (EC2 decides them one at a time), by refusing the second.
 */
export class AttachGuard {
  /** Attaches sent upstream and not yet answered: volume id → instance ids. */
  private readonly inFlight = new Map<string, Set<string>>();

  /**
   * The refusal EC2 would give an AttachVolume of `volumeId` to `instanceId`, given DescribeVolumes' answer for it
   * upstream; otherwise undefined, and the attach counts as in flight until `settled`.
   */
  check(volumeId: string, instanceId: string, describeXml: string): { code: string; message: string } | undefined {
    const refused = { code: 'VolumeInUse', message: `${volumeId} is already attached to an instance` };
    const volume = topLevelItems(describeXml, 'volumeSet').find((v) => field(v.text, 'volumeId') === volumeId)?.text;
    const multiAttach = volume !== undefined && field(volume, 'multiAttachEnabled') === 'true';
    const attachments = volume
      ? topLevelItems(volume, 'attachmentSet')
          .map((a) => ({ instanceId: field(a.text, 'instanceId'), status: field(a.text, 'status') }))
          .filter((a) => a.status === 'attached' || a.status === 'attaching')
      : [];
    const pending = this.inFlight.get(volumeId) ?? new Set<string>();
    const holders = [...attachments.map((a) => a.instanceId), ...pending];
    // Multi-Attach: refused only to an instance that holds the volume already (or is getting it now).
    if (holders.some((holder) => !multiAttach || holder === instanceId)) return refused;
    this.inFlight.set(volumeId, pending.add(instanceId));
    return undefined;
  }

  settled(volumeId: string, instanceId: string): void {
    const pending = this.inFlight.get(volumeId);
    pending?.delete(instanceId);
    if (pending?.size === 0) this.inFlight.delete(volumeId);
  }
}
