// CI runs a small propagation benchmark so that it cannot rot: the full
// one (`pnpm bench`) is on demand. Asserts only what must hold at any size.
import { describe, expect, it } from 'vitest'
import { runPropagation } from '../bench/propagation.js'

describe('propagation benchmark (smoke)', () => {
  it('every block reaches every node, with fewer bytes than flooding', async () => {
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
  }, 60_000)
})
