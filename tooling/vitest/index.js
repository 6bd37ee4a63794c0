// Shared vitest preset. Each run also writes a JSON report that scripts/test-summary.mjs adds up
// into the workspace's closing line ("N passed, N failed").
import { defineConfig } from 'vitest/config';

/** @param {{ testTimeout?: number }} [options] */
export function fosVitestConfig(options = {}) {
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 30_000,
      hookTimeout: 30_000,
      reporters: ['default', ['json', { outputFile: '.vitest/results.json' }]],
      passWithNoTests: false,
    },
  });
}
