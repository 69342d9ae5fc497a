import { defineConfig, mergeConfig } from 'vitest/config'
import base from '../../vitest.base.ts'

// Packing, installing and checking eight packages takes about 3 minutes on 2 cores (each strict type-check, libraries included, ~50 s of it).
export default mergeConfig(base, defineConfig({ test: { testTimeout: 300_000 } }))
