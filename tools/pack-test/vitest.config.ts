import { defineConfig, mergeConfig } from 'vitest/config'
import base from '../../vitest.base.ts'

// Packing, installing and checking eight packages takes a minute or two on 2 cores.
export default mergeConfig(base, defineConfig({ test: { testTimeout: 180_000 } }))
