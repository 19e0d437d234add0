import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests spawn real processes and move real bytes; on a 2-core CI box a slow
    // start must not be mistaken for a failure.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
