// The soak's 2-minute smoke as part of `pnpm test`: 10 real chronos-node
// processes, permissioned (4 listed producers, identities required), under
// seed 1's fault schedule (SIGKILLs, partitions, a skewed clock) with every
// hostile attack of soak/attacks.ts run against live nodes, and every
// invariant of soak/invariants.ts judged each round. It passes when none was
// violated and each invariant was actually checked. Ports are ephemeral, the
// data lives in its own temp dir (removed), and every child is killed even
// when the run throws or times out.
import { afterAll, expect, it } from 'vitest'
import { stopChildren } from './cli-process.js'
import { soak } from './soak/soak.js'

afterAll(() => stopChildren())

it('the 2-minute soak (seed 1, permissioned, faults and hostile peers) violates no invariant', async () => {
  const lines: string[] = []
  const result = await soak({
    minutes: 2,
    seed: 1,
    nodes: 10,
    roundMs: 2000,
    rssLimitMb: 600,
    // Slow clocks of at most half a round: a node more than about a round slow refuses every
    // honest peer as IMPOSSIBLE_HEIGHT (docs/SOAK.md, "Findings"); fast clocks go to +10 s.
    maxSlowMs: 1000,
    log: (line) => lines.push(line),
  })
  // The schedule, the rounds and the table, in one block (vitest interleaves console lines of parallel files).
  console.log(lines.join('\n'))
  const checked = Object.fromEntries(result.tallies.map((t) => [t.invariant.name, t.checked]))
  for (const name of [
    'chain-valid',
    'heights-advance',
    'rss-bounded',
    'sealed-by-listed',
    'hostile-outcome',
    'hostile-not-stored',
  ])
    expect(checked[name], `${name} was never checked`).toBeGreaterThan(0)
  const violated = result.tallies.flatMap((t) =>
    t.violations.map((v) => `${t.invariant.name} round ${v.round} node ${v.node}: ${v.detail}`),
  )
  expect(violated).toEqual([])
  expect(result.violations).toBe(0)
}, 900_000)
