import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // Suites that share PostgreSQL / Redis / NATS engines isolate themselves by schema or key prefix.
    fileParallelism: true,
  },
});
