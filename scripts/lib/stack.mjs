// The local stack: Redis + an EC2 API + one seeded instance. `dev` keeps
// Redis data in .plinth/redis on fixed ports; `test` is throwaway.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEc2 } from './ec2.mjs';
import { startRedis } from './redis.mjs';
import { ROOT, freePort } from './util.mjs';

const DEV_PORTS = { redis: Number(process.env.PLINTH_REDIS_PORT ?? 6379), ec2: Number(process.env.PLINTH_EC2_PORT ?? 4566) };
const TEST_PORTS = { ec2: Number(process.env.PLINTH_TEST_EC2_PORT ?? 4599) };

/**
 * Starts Redis, the EC2 emulator and seeds the node. Returns { env, info,
 * cleanup } where env is what apps and integration tests read. The caller
 * owns `sup` and must stop it before calling cleanup().
 */
export async function startStack(sup, { mode, logDir }) {
  const temps = [];
  const temp = (name) => {
    const d = mkdtempSync(join(tmpdir(), `plinth-${name}-`));
    temps.push(d);
    sup.trackDir(d);
    return d;
  };
  const cleanup = () => temps.forEach((d) => rmSync(d, { recursive: true, force: true }));
  try {
    const dev = mode === 'dev';
    const redis = await startRedis(sup, dev ? { port: DEV_PORTS.redis, dir: join(ROOT, '.plinth', 'redis') } : { port: await freePort(), dir: temp('redis') });
    const ec2 = await startEc2(sup, { port: dev ? DEV_PORTS.ec2 : TEST_PORTS.ec2, portOptional: !dev, fsRoot: temp('localstack'), logDir });
    const region = process.env.AWS_REGION ?? 'us-east-1';
    const creds = { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' };
    const zone = process.env.PLINTH_ZONE ?? `${region}a`;
    const instanceType = process.env.PLINTH_INSTANCE_TYPE ?? 'm5.large';
    const { seedInstance } = await import('./seed.mjs');
    const node = await seedInstance({ endpoint: ec2.endpoint, region, zone, instanceType, ...creds });
    const env = {
      REDIS_URL: redis.url,
      EC2_ENDPOINT: ec2.endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      PLINTH_TEST_NODE_ID: node.instanceId,
      PLINTH_TEST_ZONE: zone,
      PLINTH_TEST_INSTANCE_TYPE: instanceType,
      PLINTH_STACK: '1',
    };
    return { env, info: { redis, ec2, node }, cleanup };
  } catch (e) {
    e.cleanup = cleanup;
    throw e;
  }
}
