// The soak's smoke from the command line: `pnpm test:soak` runs SOAK_MINUTES
// (default 2) of the full soak (10 node processes, permissioned, every fault
// kind and every hostile attack at least once, every invariant every round)
// with SOAK_SEED (default 1), and exits non-zero on a violation. The same
// run is part of `pnpm test` as apps/node/test/soak.smoke.test.ts.
import { soak } from './soak.js'

const { violations } = await soak({
  minutes: Number(process.env.SOAK_MINUTES ?? 2),
  seed: Number(process.env.SOAK_SEED ?? 1),
  nodes: 10,
  roundMs: 2000,
  rssLimitMb: 600,
  open: process.env.SOAK_OPEN === '1',
  // Slow clocks of at most half a round until IMPOSSIBLE_HEIGHT allows for clock error
  // (docs/SOAK.md, "Findings"); fast clocks go to +10 s.
  maxSlowMs: Number(process.env.SOAK_MAX_SLOW_MS ?? 1000),
})
process.exit(violations === 0 ? 0 : 1)
