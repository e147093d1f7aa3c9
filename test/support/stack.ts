// Integration tests get the real stack (Redis, LocalStack EC2, a seeded
// instance) from the environment that scripts/run.mjs exports. Call
// requireStack() in beforeAll: a missing stack must fail the suite, never skip.

export interface Stack {
  redisUrl: string;
  ec2Endpoint: string;
  region: string;
  /** Instance id of the seeded "this node" EC2 instance. */
  nodeId: string;
  zone: string;
  instanceType: string;
}

const VARS = {
  redisUrl: 'REDIS_URL',
  ec2Endpoint: 'EC2_ENDPOINT',
  region: 'AWS_REGION',
  nodeId: 'PLINTH_TEST_NODE_ID',
  zone: 'PLINTH_TEST_ZONE',
  instanceType: 'PLINTH_TEST_INSTANCE_TYPE',
} as const satisfies Record<keyof Stack, string>;

export function requireStack(env: NodeJS.ProcessEnv = process.env): Stack {
  const missing = Object.values(VARS).filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(`integration stack not available: ${missing.join(', ')} not set; run through \`npm test\` or \`node scripts/run.mjs stack\``);
  }
  const read = (key: keyof Stack): string => env[VARS[key]] ?? '';
  return {
    redisUrl: read('redisUrl'),
    ec2Endpoint: read('ec2Endpoint'),
    region: read('region'),
    nodeId: read('nodeId'),
    zone: read('zone'),
    instanceType: read('instanceType'),
  };
}
