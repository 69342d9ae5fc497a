// The soak's CI smoke: SOAK_MINUTES (default 2) of the full soak (10 node
// processes, every fault kind at least once, every invariant every round).
// The long run (default 20 minutes) and how to read it: docs/SOAK.md.
import { describe, expect, it } from 'vitest'
import { soak } from './soak.js'

const minutes = Number(process.env.SOAK_MINUTES ?? 2)
const seed = Number(process.env.SOAK_SEED ?? 1)

describe('soak under faults', () => {
  it(
    `${minutes} min, 10 nodes, seed ${seed}: every invariant holds in every round`,
    async () => {
      const lines: string[] = []
      const violations = await soak({
        minutes,
        seed,
        nodes: 10,
        roundMs: 2000,
        rssLimitMb: 600,
        log: (line) => {
          lines.push(line)
          console.log(line)
        },
      })
      expect(violations, lines.slice(-40).join('\n')).toBe(0)
    },
    (minutes * 60 + 180) * 1000,
  )
})
