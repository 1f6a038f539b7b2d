import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration tests fork stage processes; running test files one by one keeps them off each other's cores.
    fileParallelism: false,
  },
});
