import { Redis } from 'ioredis';
import { afterAll, describe } from 'vitest';
import { freshRedis } from '../../../test/support/ec2.js';
import { requireStack } from '../../../test/support/stack.js';
import { deviceNamesContract } from './devices-contract.js';
import { DeviceAllocator } from './devices.js';

const clients: Redis[] = [];
afterAll(() => clients.forEach((c) => c.disconnect()));

describe('device names in Redis (DeviceAllocator)', () => {
  deviceNamesContract(async () => {
    const redis = new Redis(await freshRedis(requireStack().redisUrl, 8));
    clients.push(redis);
    return new DeviceAllocator(redis);
  });
});
