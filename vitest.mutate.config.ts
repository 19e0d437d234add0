import { defineConfig } from 'vitest/config';

/**
 * The tests `npm run test:mutate` runs against each mutant: the unit tests only. They are fast and
 * in-process; the integration tests start child processes, which never see Stryker's mutants.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
