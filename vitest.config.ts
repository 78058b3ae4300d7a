import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests share one PostgreSQL server; each isolates itself in its own schema.
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'vigil',
          // web/: UI component tests in happy-dom (each file says `@vitest-environment happy-dom`).
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.{ts,tsx}'],
          exclude: ['test/e2e/**', '**/node_modules/**'],
        },
      },
      {
        // The browser tests (Chromium + a demo server) run after everything else, on their own,
        // so neither slows the other's timing-sensitive tests on a 2-core machine.
        extends: true,
        test: { name: 'browser', include: ['test/e2e/**/*.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
