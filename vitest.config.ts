import { defineConfig } from 'vitest/config';

// Two tiers: `unit` (pure logic, no services) and `integration` (real Redis,
// real LocalStack, real loop devices). Integration needs the stack that
// scripts/run.mjs starts; it reads PLINTH_* endpoints from the environment.
export default defineConfig({
  resolve: { conditions: ['plinth-src'] },
  ssr: { resolve: { conditions: ['plinth-src'], externalConditions: ['plinth-src'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Unit tests are pure: one module graph per worker instead of one per file (the AWS SDK, zod, gRPC and pino
          // load once per worker), which halves the tier's wall time on 2 cores.
          isolate: false,
          include: ['apps/*/src/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['apps/*/src/**/*.int.test.ts', 'packages/*/src/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
