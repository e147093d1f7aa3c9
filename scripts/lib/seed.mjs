// Seeds "this node": one running EC2 instance the node agent can pretend to
// be. Loaded only after npm dependencies are installed.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, log, sleep } from './util.mjs';

const NODE_NAME_TAG = 'plinth-dev-node';

async function loadEc2Sdk() {
  // The SDK is a dependency of packages/cloud, not of the root; resolve it
  // from there so hoisting changes don't break us.
  for (const from of [join(ROOT, 'packages', 'cloud', 'package.json'), join(ROOT, 'package.json')]) {
    try {
      return await import(pathToFileURL(createRequire(from).resolve('@aws-sdk/client-ec2')).href);
    } catch {
      /* try the next */
    }
  }
  throw new Error('@aws-sdk/client-ec2 is not installed (run npm install)');
}

/** Returns { instanceId, zone, instanceType }. */
export async function seedInstance({ endpoint, region, zone, instanceType, accessKeyId, secretAccessKey }) {
  const ec2 = await loadEc2Sdk();
  const client = new ec2.EC2Client({ endpoint, region, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 5 });
  try {
    const byTag = [
      { Name: 'tag:Name', Values: [NODE_NAME_TAG] },
      { Name: 'availability-zone', Values: [zone] },
      { Name: 'instance-type', Values: [instanceType] },
    ];
    const find = async (states) => {
      const res = await client.send(new ec2.DescribeInstancesCommand({ Filters: [...byTag, { Name: 'instance-state-name', Values: states }] }));
      return (res.Reservations ?? []).flatMap((r) => r.Instances ?? [])[0];
    };
    const inst = await find(['running']);
    if (inst?.InstanceId) {
      log(`reusing instance ${inst.InstanceId} (${instanceType}, ${zone})`);
      return { instanceId: inst.InstanceId, zone, instanceType };
    }
    // The emulators ship the public AMI catalogue; any Linux x86_64 EBS image
    // is accepted. Sorting keeps the pick stable between runs.
    const images = await client.send(
      new ec2.DescribeImagesCommand({
        Owners: ['amazon'],
        Filters: [
          { Name: 'architecture', Values: ['x86_64'] },
          { Name: 'root-device-type', Values: ['ebs'] },
        ],
      }),
    );
    const linux = (images.Images ?? []).filter((i) => i.ImageId && i.Platform !== 'windows' && !/windows/i.test(i.Name ?? ''));
    const ami = linux.sort((a, b) => (a.ImageId < b.ImageId ? -1 : 1))[0]?.ImageId;
    if (!ami) throw new Error(`no usable AMI at ${endpoint} (DescribeImages returned ${images.Images?.length ?? 0})`);
    const res = await client.send(
      new ec2.RunInstancesCommand({
        ImageId: ami,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: instanceType,
        Placement: { AvailabilityZone: zone },
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: NODE_NAME_TAG }] }],
      }),
    );
    const id = res.Instances?.[0]?.InstanceId;
    if (!id) throw new Error('RunInstances returned no instance');
    // Emulators report "pending" on create and "running" from the next read.
    const stateOf = async () => {
      const d = await client.send(new ec2.DescribeInstancesCommand({ InstanceIds: [id] }));
      return d.Reservations?.[0]?.Instances?.[0]?.State?.Name;
    };
    let state = await stateOf();
    for (let i = 0; i < 60 && state !== 'running'; i++) {
      await sleep(500);
      state = await stateOf();
    }
    if (state !== 'running') throw new Error(`instance ${id} never reached "running"`);
    log(`seeded instance ${id} (${ami}, ${instanceType}, ${zone})`);
    return { instanceId: id, zone, instanceType };
  } finally {
    client.destroy();
  }
}
