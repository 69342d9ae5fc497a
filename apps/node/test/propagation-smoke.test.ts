// CI runs a small propagation benchmark so that it cannot rot: the full
// one (`pnpm bench`) is on demand. Asserts only what must hold at any size.
import { describe, expect, it } from 'vitest'
import { runPropagation } from '../bench/propagation.js'

describe('propagation benchmark (smoke)', () => {
  it('every block reaches every node, with fewer bytes than flooding, and a second run repeats the first', async () => {
    const params = {
      nodes: 12,
      dials: 3,
      blocks: 3,
      transactions: 50,
      roundMs: 600,
      latencyMs: 20,
      jitterMs: 5,
      bandwidthBytesPerSecond: 12_500_000,
      seed: 3,
    }
    const ours = await runPropagation({ ...params, flood: false })
    const flooding = await runPropagation({ ...params, flood: true })
    expect(ours.reach.length).toBeGreaterThanOrEqual(params.blocks)
    for (const block of ours.reach) expect(block.reached).toBe(params.nodes)
    expect(ours.bytes).toBeLessThan(flooding.bytes)
    expect(ours.fullBlockDeliveries).toBeLessThan(flooding.fullBlockDeliveries)
    // On virtual time a run repeats exactly (fixed start, seeded draws, keys from the seed):
    // what lets a change to the simulator show the same figures before and after.
    const again = await runPropagation({ ...params, flood: false })
    expect(again.reach).toEqual(ours.reach)
    expect(again.bytes).toBe(ours.bytes)
    expect(again.fullBlockDeliveries).toBe(ours.fullBlockDeliveries)
    expect(again.model.timeToAll).toEqual(ours.model.timeToAll)
    // Where the CPU went, phase by phase, in order.
    expect(ours.phases.map((phase) => phase.name)).toEqual([
      'open',
      'start',
      'connect',
      'measure',
      'stop',
    ])
  }, 60_000)
})
