import { defineConfig } from 'vitest/config'
import base from '../../vitest.base.ts'
import { SOAK_SMOKE } from './vitest.config.ts'

// `pnpm --filter @chronos/node test:soak`: the soak smoke alone, with a report of its own
// beside the suite's (scripts/test-summary.mjs and scripts/stress.mjs read both). Spread, not
// mergeConfig: that would concatenate `include` with the suite's and run everything.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [SOAK_SMOKE],
    reporters: ['default', ['json', { outputFile: 'test-results/soak.json' }]],
  },
})
