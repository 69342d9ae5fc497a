// The simulator's shared block checks (bench/shared-block-checks.ts) reach the
// sessions only through ChronosNode.open's `blockChecks`: a merge once dropped
// it there, and every simulated node verified every block again (10 % of a
// 1,000-node run). This pins the wiring by what the cache sees.
import type { Block, WellFormedCheck } from '@chronos/codec'
import type { BlockCheckCache } from '@chronos/peer'
import { memoryNetwork } from '@chronos/transport'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { sharedBlockChecks } from '../bench/shared-block-checks.js'
import { ChronosNode, resolveConfig } from '../src/index.js'
import { makeGenesis, silent, until } from './network.js'

const running: ChronosNode[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((node) => node.stop()))
})

describe('blockChecks passed to ChronosNode.open', () => {
  it('is consulted for every NEW_BLOCK: the second node handed the shared block reuses the first one’s check', async () => {
    const network = memoryNetwork({ latencyMs: 2, seed: 5, shareBlocks: true })
    const shared = sharedBlockChecks(network.sharedBlocks!)
    const remembered: Block[] = []
    const reused: WellFormedCheck[] = []
    const cache: BlockCheckCache = {
      get: (block) => {
        const check = shared.get(block)
        if (check) reused.push(check)
        return check
      },
      set: (block, check) => {
        if (network.sharedBlocks!.isShared(block)) remembered.push(block)
        shared.set(block, check)
      },
    }
    const genesis = makeGenesis(400)
    const open = async (i: number) => {
      const config = resolveConfig(
        {},
        {
          data: '(memory)',
          genesis: '(memory)',
          listen: `n${i}:7000`,
          peers: i === 0 ? [] : ['n0:7000'],
          produce: i === 0,
          txRate: 20,
          limits: { statusIntervalMs: 200, fetchTimeoutMs: 300 },
        },
      )
      const node = await ChronosNode.open({
        config,
        genesis,
        logger: silent,
        transport: network.transport({ host: `n${i}` }),
        db: new MemoryLevel({ valueEncoding: 'utf8' }),
        blockChecks: cache,
      })
      running.push(node)
      await node.start()
      return node
    }
    const nodes = [await open(0), await open(1), await open(2)]
    await until(
      nodes,
      () => nodes.every((node) => node.store.height() >= 2),
      30_000,
      'height 2 on all three nodes',
    )
    expect(remembered.length).toBeGreaterThan(0)
    expect(reused.length).toBeGreaterThan(0)
    expect(reused.every((check) => check.ok)).toBe(true)
  }, 60_000)
})
