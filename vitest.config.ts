import { defineConfig } from 'vitest/config';

/**
 * Three suites, run in this order by `npm test` (or one at a time: `npm run test:unit`, `test:models`,
 * `test:integration`):
 * - unit: pure logic and small files on disk; no model weights, no servers, no built CLI.
 * - models: face-api, the native tfjs backend and real photos.
 * - integration: the built CLI (`dist/`) against the run's Redis and MLflow servers (test/global-setup.ts).
 */
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Model and integration tests are CPU-bound and fork stage processes; one file at a time keeps them off each
    // other's cores.
    fileParallelism: false,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'models', include: ['test/models/**/*.test.ts'], sequence: { groupOrder: 1 } } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
