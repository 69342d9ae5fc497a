// The hostile-peer suite: every input in cases.ts against one real node
// (TCP on loopback, LevelDB on disk). While each input runs an honest peer
// keeps probing (SHAKEHAND + PULL_BLOCK from another address, answered
// within 2 s); after it the store must be unchanged; at the end the whole
// table is printed. Outcomes are typed close reasons and gossip events.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Block } from '@chronos/codec'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { history, makeGenesis } from '../network.js'
import { stopAttackers } from './attacker.js'
import { hostileCases } from './cases.js'
import { type HostileNode, hostileNode } from './harness.js'
import { HonestProber, PROBE_DEADLINE_MS, rssMb } from './prober.js'
import { installRejectionGuard, unhandledRejections } from './rejection-guard.js'

installRejectionGuard()
const ROUND_MS = 1000
const genesis = makeGenesis(ROUND_MS, Date.now() - 40 * ROUND_MS)
const chain: Block[] = history(genesis, 20)
let hostile: HostileNode
let prober: HonestProber
const table: {
  input: string
  expected: string
  observed: string
  probeMs: number
  heapMb: number
  rssMb: number
}[] = []

// The heap is read after a full collection, so that what is left is what the node keeps.
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void
const heapMb = () => {
  collectGarbage()
  return process.memoryUsage().heapUsed / 2 ** 20
}
let heapAtStart = 0

beforeAll(async () => {
  hostile = await hostileNode({ genesis, preload: chain })
  const ctx = hostile.context
  prober = new HonestProber(
    () => hostile.node.address,
    () => ctx.status({ address: '127.0.0.3:9' }),
  )
  heapAtStart = heapMb()
})

// A case that failed half way may leave its attacker host running.
afterEach(() => stopAttackers())

afterAll(async () => {
  console.log(`\nhostile-peer suite against ${hostile.node.address}:`)
  const widths = [44, 44, 44, 16, 12]
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 10)).join(' ')
  console.log(row(['input', 'expected', 'observed', 'worst probe', 'heap after', 'peak RSS']))
  for (const r of table)
    console.log(
      row([
        r.input,
        r.expected,
        r.observed,
        `${r.probeMs.toFixed(0)} ms`,
        `${r.heapMb.toFixed(1)} MiB`,
        `${r.rssMb.toFixed(0)} MiB`,
      ]),
    )
  await hostile.stop()
})

describe('a node under hostile input', () => {
  it('has at least 40 distinct hostile inputs', () => {
    expect(new Set(hostileCases.map((c) => c.name)).size).toBeGreaterThanOrEqual(40)
  })

  for (const input of hostileCases) {
    it(`${input.name}: ${input.expected}`, async () => {
      prober.start()
      const observed = await input.run(hostile.context)
      const probes = await prober.stop()
      // One more probe after the input, as a fresh honest peer would arrive.
      const after = await prober.probe()
      const worst = Math.max(probes.maxMs, after, probes.failures ? Number.POSITIVE_INFINITY : 0)
      table.push({
        input: input.name,
        expected: input.expected,
        observed,
        probeMs: worst,
        heapMb: heapMb(),
        rssMb: probes.peakRssMb,
      })
      expect(observed).toBe(input.expected)
      expect(worst).toBeLessThan(PROBE_DEADLINE_MS)
      expect(hostile.node.store.head().block_header.hash).toBe(chain.at(-1)!.block_header.hash)
    })
  }

  it('keeps its store intact through all of it', async () => {
    expect(await hostile.node.store.verify()).toMatchObject({ ok: true, height: 20 })
  })

  it('keeps its memory bounded through all of it', () => {
    // A flood that the node buffered (answers, fetches, orphans) would cost hundreds of MiB.
    expect(heapMb() - heapAtStart).toBeLessThan(64)
    expect(rssMb()).toBeLessThan(1024)
  })

  it('never let anything a peer sent surface as an unhandled rejection', () => {
    expect(unhandledRejections()).toEqual([])
  })
})
