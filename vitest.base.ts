// Shared Vitest settings for every workspace package. Tests resolve sibling
// packages to their TypeScript sources through the `@chronos/source` export
// condition, so a test run never depends on a stale `dist/`.
import { defineConfig } from 'vitest/config'

// Vite's default server conditions, with ours first.
const conditions = ['@chronos/source', 'module', 'node', 'development|production']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON report feeds scripts/test-summary.mjs, which prints one
    // workspace-wide "N passed, N failed" line after turbo has run every package.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
})
