import { CreateVolumeCommand } from '@aws-sdk/client-ec2';
import { createLogger } from '@plinth/logger';
import { describe, expect, it } from 'vitest';
import { ec2Of, uniqueCluster } from '../../../test/support/ec2.js';
import { requireStack } from '../../../test/support/stack.js';
import { createEc2Client } from './client.js';
import { Ec2, TAG_CLUSTER, TAG_CSI_NAME } from './ec2.js';

const log = createLogger({ name: 'test', level: 'silent' });

describe('Ec2 adapter against LocalStack', () => {
  it('batches look-ups with filters, so unknown ids in a batch never fail the known ones', async () => {
    const stack = requireStack();
    const ec2 = new Ec2(createEc2Client({ region: stack.region, endpoint: stack.ec2Endpoint }), { log });
    const cluster = uniqueCluster('adapter');
    const made = await ec2Of(stack).send(
      new CreateVolumeCommand({
        AvailabilityZone: stack.zone,
        Size: 1,
        TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: TAG_CSI_NAME, Value: `n-${cluster}` }, { Key: TAG_CLUSTER, Value: cluster }] }],
      }),
    );
    const id = made.VolumeId!;
    const vols = await ec2.describeVolumes([id, 'vol-0123456789abcdef0', 'vol-ffffffffffffffff1']);
    expect([...vols.keys()]).toEqual([id]);

    const byName = await ec2.findVolumesByName(cluster, [`n-${cluster}`, 'nobody']);
    expect(byName.get(`n-${cluster}`)?.map((v) => v.VolumeId)).toEqual([id]);
    expect(byName.has('nobody')).toBe(false);
    // Another cluster's id scopes the name look-up away.
    expect((await ec2.findVolumesByName('someone-else', [`n-${cluster}`])).size).toBe(0);

    const inst = await ec2.describeInstances([stack.nodeId, 'i-0123456789abcdef0']);
    expect([...inst.keys()]).toEqual([stack.nodeId]);
    await ec2.deleteVolume(id);
  });

  it('maps EC2 refusals to domain errors naming the resource', async () => {
    const stack = requireStack();
    const ec2 = new Ec2(createEc2Client({ region: stack.region, endpoint: stack.ec2Endpoint }), { log });
    await expect(ec2.deleteVolume('vol-0123456789abcdef0')).rejects.toMatchObject({ kind: 'NotFound', message: expect.stringContaining('vol-0123456789abcdef0') as unknown });
    await expect(ec2.attachVolume('vol-0123456789abcdef0', stack.nodeId, '/dev/xvdba')).rejects.toMatchObject({ kind: 'NotFound' });
  });
});
