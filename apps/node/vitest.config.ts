import { configDefaults, defineConfig, mergeConfig } from 'vitest/config'
import base from '../../vitest.base.ts'

// The soak smoke (10 node processes for 2-4 minutes) runs on its own after every
// package's tests (`pnpm test` at the root, `vitest.soak.config.ts`): inside this
// run it would share the machine with the node suite's other process-heavy files
// and judge the machine's starvation instead of the node.
export const SOAK_SMOKE = 'test/soak.smoke.test.ts'

export default mergeConfig(
  base,
  defineConfig({ test: { exclude: [...configDefaults.exclude, SOAK_SMOKE] } }),
)
