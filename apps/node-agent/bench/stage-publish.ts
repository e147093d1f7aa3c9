/**
 * Median NodeStageVolume + NodePublishVolume time for a 1 GiB ext4 volume
 * (blank device -> mkfs -> mount -> bind mount, driven over the real gRPC
 * socket), next to the raw `mkfs.ext4 && mount && mount --bind` sequence on
 * the same loop device. Needs root. Not a test: it prints numbers.
 *
 *   npm run bench -w @plinth/node-agent          (BENCH_RUNS=15 to change the run count, 9 by default)
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { IdentityClient, NodeClient } from '@plinth/csi';
import { startApp } from '../../../test/support/app.js';
import { createFakeHost, detachAll } from '../../../test/support/nvme.js';
import { csiApi, mountCap, newVolumeId, TEST_IDENTITY } from '../../../test/support/node-agent.js';

const exec = promisify(execFile);
const GiB = 1024 * 1024 * 1024;
const runs = Number(process.env.BENCH_RUNS ?? 9);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (n: number): string => `${n.toFixed(1)} ms`;

async function main(): Promise<void> {
  const host = await createFakeHost();
  // The node agent as its own process: the bundle the image runs when PLINTH_BUNDLES is set (npm run bench sets it).
  const endpoint = `unix://${join(host.root, 'csi', 'csi.sock')}`;
  await mkdir(join(host.root, 'csi'), { recursive: true });
  const agent = await startApp('node agent', 'apps/node-agent/src/main.ts', endpoint, {
    NODE_ID: TEST_IDENTITY.nodeId,
    NODE_ZONE: TEST_IDENTITY.zone,
    NODE_INSTANCE_TYPE: TEST_IDENTITY.instanceType,
    IMDS_DISABLED: 'true',
    METADATA_SOURCES: 'env',
    SYSFS_ROOT: host.sysRoot,
    DEV_ROOT: host.devRoot,
    KUBELET_ROOT: host.kubeletRoot,
    MAX_VOLUMES_PER_NODE: String(TEST_IDENTITY.maxVolumesPerNode),
    LOG_LEVEL: 'warn',
  });
  const node = new NodeClient(endpoint, credentials.createInsecure());
  const identity = new IdentityClient(endpoint, credentials.createInsecure());
  const t = {
    api: csiApi(node, identity),
    close: async () => {
      node.close();
      identity.close();
      await agent.stop();
    },
  };
  console.log(`node agent: ${process.env.PLINTH_BUNDLES ? 'the bundle (as the image runs it)' : 'TypeScript under tsx'}`);
  try {
    const loop = await host.loop(GiB);
    const volumeId = newVolumeId();
    await host.present(loop, { volumeId });
    const staging = join(host.kubeletRoot, 'plugins/ebs/globalmount');
    const target = join(host.kubeletRoot, 'pods/p/volumes/mount');
    const rawStaging = join(host.root, 'raw/staging');
    const rawTarget = join(host.root, 'raw/target');
    await mkdir(rawStaging, { recursive: true });
    await mkdir(rawTarget, { recursive: true });
    const wipe = () => exec('wipefs', ['-a', '-q', loop.path]);

    const agent: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first so page-cache warmth does not favour one side.
      const order = i % 2 === 0 ? ['agent', 'raw'] : ['raw', 'agent'];
      for (const which of order) {
        await wipe();
        if (which === 'agent') {
          const t0 = performance.now();
          await t.api.stage({ volumeId, stagingTargetPath: staging, volumeCapability: mountCap('ext4'), publishContext: {}, secrets: {}, volumeContext: {} });
          await t.api.publish({
            volumeId,
            stagingTargetPath: staging,
            targetPath: target,
            volumeCapability: mountCap('ext4'),
            readonly: false,
            publishContext: {},
            secrets: {},
            volumeContext: {},
          });
          agent.push(performance.now() - t0);
          await t.api.unpublish({ volumeId, targetPath: target });
          await t.api.unstage({ volumeId, stagingTargetPath: staging });
        } else {
          const t0 = performance.now();
          await exec('mkfs.ext4', ['-F', '-q', loop.path]);
          await exec('mount', ['-t', 'ext4', loop.path, rawStaging]);
          await exec('mount', ['--bind', rawStaging, rawTarget]);
          raw.push(performance.now() - t0);
          await exec('umount', [rawTarget]);
          await exec('umount', [rawStaging]);
        }
      }
    }
    const a = median(agent);
    const r = median(raw);
    console.log(`stage+publish, 1 GiB ext4 loop volume, ${runs} runs`);
    console.log(
      `  node agent (gRPC, discovery + identity proof + blkid + mkfs + mount + bind): median ${ms(a)}  [${agent.map((x) => x.toFixed(0)).join(', ')}]`,
    );
    console.log(`  raw mkfs.ext4 && mount && mount --bind:                                     median ${ms(r)}  [${raw.map((x) => x.toFixed(0)).join(', ')}]`);
    console.log(`  ratio agent/raw: ${(a / r).toFixed(2)}x (overhead ${ms(a - r)}); target ≤ 1.20x: ${a / r <= 1.2 ? 'met' : 'NOT met'}`);
  } finally {
    await t.close();
    await host.cleanup();
    await detachAll();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
