import { defineConfig } from 'vitest/config';

/**
 * Test tiers. `unit` runs in-process (no socket, no child process: test/support/no-sockets.ts
 * fails a test that tries); `integration` (`*.int.test.ts`) starts real servers on loopback and
 * child processes; `replicas` (test/replicas/) several gateways on one Redis, once the others are
 * done. `npm test` runs both; heavier tiers get their own scripts and budgets.
 */
const INTEGRATION = 'test/**/*.int.test.ts';
/**
 * Several gateway processes, a redis-server and hundreds of subscribers at once: run after the
 * other tiers rather than beside them, whose timing-bound tests they would starve on two cores.
 */
const REPLICAS = 'test/replicas/**/*.int.test.ts';

export default defineConfig({
  resolve: {
    // graphql 16 ships both index.js and index.mjs without an exports map: Node hands
    // dependencies the CommonJS build, so the code under test must get the same one.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Most integration tests wait on timers and sockets, not the CPU: one worker more than this
    // machine's two cores finishes the default tiers in half the time.
    maxWorkers: 3,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [INTEGRATION],
          setupFiles: ['test/support/no-sockets.ts'],
          pool: 'threads',
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [INTEGRATION],
          exclude: [REPLICAS],
          pool: 'forks',
          // A full GC on demand, so a leak check reads what is retained, not what the collector
          // has not yet reclaimed (test/reliability/support.ts, retainedBytes).
          execArgv: ['--expose-gc'],
        },
      },
      {
        extends: true,
        test: { name: 'replicas', include: [REPLICAS], pool: 'forks', sequence: { groupOrder: 1 } },
      },
    ],
  },
});
