import { z } from 'zod';
import { parseBuckets } from './limiter.js';

/** `EC2_RATE_LIMITS` ("describe=100:20,mutating=50:5") as bucket specs over EC2's defaults. */
export const ec2RateLimitsEnv = z
  .string()
  .optional()
  .transform((v, ctx) => {
    try {
      return parseBuckets(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });
