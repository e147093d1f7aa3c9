/**
 * CLI for the emulated Nitro host. With the stack's env (EC2_ENDPOINT,
 * AWS_REGION, PLINTH_TEST_NODE_ID):
 *
 *   node --conditions=plinth-src --import tsx test/nitro/main.ts [--instance i-…] [--data DIR]
 *
 * prints one JSON line {sysRoot, devRoot, kubeletRoot, dataDir, ebsEndpoint, nvmeCli} for
 * the node agent's SYSFS_ROOT / DEV_ROOT / KUBELET_ROOT / NVME_CLI (the emulator's
 * `nvme`, which serves each device's EBS log page: ./nvme-cli.ts) and the controller's
 * EBS_ENDPOINT (the EBS direct APIs from the snapshots' bytes, see
 * ebs-direct.ts), then follows attachments until
 * SIGINT/SIGTERM, when it unmounts what is left under its root, detaches every
 * loop device and deletes its tree and backing files.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { EC2Client } from '@aws-sdk/client-ec2';
import { createFakeHost, mountsUnder } from '../support/nvme.js';
import { startEbsDirect } from './ebs-direct.js';
import { startNitro } from './emulator.js';
import { installNvmeCli } from './nvme-cli.js';

const { values } = parseArgs({ options: { instance: { type: 'string' }, data: { type: 'string' } } });
const instanceId = values.instance ?? process.env.PLINTH_TEST_NODE_ID;
const endpoint = process.env.EC2_ENDPOINT;
const region = process.env.AWS_REGION ?? 'us-east-1';
if (!instanceId || !endpoint) {
  console.error('usage: EC2_ENDPOINT=… AWS_REGION=… test/nitro/main.ts --instance i-… (or PLINTH_TEST_NODE_ID)');
  process.exit(2);
}

const ec2 = new EC2Client({ region, endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const host = await createFakeHost();
const dataDir = values.data ?? join(host.root, 'volumes');
const nitro = await startNitro({ ec2, instanceId, host, dataDir, log: (m) => console.error(`[nitro] ${m}`) });
const ebs = await startEbsDirect({ ec2, fileOf: (id) => nitro.backingFile(id), sync: () => nitro.sync(), log: (m) => console.error(`[nitro] ${m}`) });
const nvmeCli = await installNvmeCli(host.root, host.sysRoot);
console.log(JSON.stringify({ sysRoot: host.sysRoot, devRoot: host.devRoot, kubeletRoot: host.kubeletRoot, dataDir, ebsEndpoint: ebs.endpoint, nvmeCli }));

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  // Whatever the node agent left mounted goes first, so the loops really detach.
  for (const p of await mountsUnder(host.root)) await promisify(execFile)('umount', ['-l', p], { timeout: 30_000 }).catch(() => undefined);
  await ebs.close();
  await nitro.stop({ purge: values.data === undefined });
  await host.cleanup();
  ec2.destroy();
  process.exit(0);
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stop());
