import { z } from 'zod';
import { parseQuotaOverrides } from './types.js';

/** `CAPACITY_QUOTAS_GIB` ("gp3=102400,io2=40960"): per-type quota overrides in GiB, spelled the same for the controller and the admin API. */
export const quotaOverridesEnv = z
  .string()
  .optional()
  .transform((v, ctx) => {
    try {
      return parseQuotaOverrides(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });
