// The soak's CI smoke: `pnpm test:soak` runs SOAK_MINUTES (default 2) of the
// full soak (10 node processes, every fault kind at least once, every
// invariant every round) with SOAK_SEED (default 1), and exits non-zero on a
// violation. Not part of `pnpm test`: see docs/SOAK.md for why and for the
// long run.
import { soak } from './soak.js'

const violations = await soak({
  minutes: Number(process.env.SOAK_MINUTES ?? 2),
  seed: Number(process.env.SOAK_SEED ?? 1),
  nodes: 10,
  roundMs: 2000,
  rssLimitMb: 600,
})
process.exit(violations === 0 ? 0 : 1)
