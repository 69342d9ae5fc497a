// The bridge watching nodes through the P2P protocol alone: no API, so all
// it knows comes from Status beats (height, head, round trip) and from the
// blocks and hashes the nodes gossip to it as to any peer.
import { type Block, createGenesis } from '@chronos/codec'
import type { ChronosNode } from '@chronos/node'
import { afterAll, describe, expect, it } from 'vitest'
import { NetworkView, OBSERVER_FEATURE, Observer } from '../src/index.js'
import { startNode } from './nodes.js'

const nodes: ChronosNode[] = []
let observer: Observer | undefined

afterAll(async () => {
  await observer?.stop()
  await Promise.all(nodes.map((n) => n.stop()))
})

async function producer(genesis: Block, peers: string[]) {
  const node = await startNode(genesis, { peers, txRate: 5 })
  nodes.push(node)
  return node
}

/** Resolves once `condition` holds after a view change (checked on every delta). */
function until(view: NetworkView, condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (condition()) return resolve()
    const check = () => {
      if (!condition()) return
      view.off('delta', check)
      resolve()
    }
    view.on('delta', check)
  })
}

describe('the observer over P2P only', () => {
  it("follows two API-less nodes' heights, heads and round trips, and sees their blocks spread", async () => {
    const genesis = createGenesis({ network: 'observer-p2p', roundMs: 400, timestamp: Date.now() })
    const a = await producer(genesis, [])
    const b = await producer(genesis, [a.address])
    const view = new NetworkView()
    observer = new Observer({ view, targets: [{ p2p: a.address }, { p2p: b.address }] })
    const flushing = setInterval(() => view.flush(), 50)
    try {
      await observer.start()
      const byAddress = () => new Map(view.snapshot().nodes.map((n) => [n.address, n]))
      // Three heights in a row where both nodes' views match their stores.
      let matched = 0
      let lastHeight = -1
      await until(view, () => {
        const seen = byAddress()
        const ok = [a, b].every((node) => {
          const v = seen.get(node.address)
          return (
            v?.up === true &&
            v.height === node.store.height() &&
            v.head === node.store.head().block_header.hash &&
            typeof v.rttMs === 'number'
          )
        })
        const height = seen.get(a.address)?.height ?? -1
        if (ok && height > lastHeight) {
          matched++
          lastHeight = height
        }
        return matched >= 3
      })
      // Blocks gossiped to the bridge carry their height and producer, and were seen by both nodes.
      await until(view, () =>
        view
          .snapshot()
          .blocks.some(
            (block) =>
              block.height !== null &&
              block.producer !== null &&
              new Set(block.reach.map((r) => r.node)).size === 2,
          ),
      )
      expect(lastHeight).toBeGreaterThanOrEqual(2)
    } finally {
      clearInterval(flushing)
    }
  }, 60_000)

  it('marks itself an observer in its Status (features: ["observer"]) so nodes can leave it out of fan-out and peer counts', async () => {
    const genesis = createGenesis({ network: 'observer-flag', roundMs: 400, timestamp: Date.now() })
    const node = await producer(genesis, [])
    const view = new NetworkView()
    const watcher = new Observer({ view, targets: [{ p2p: node.address }] })
    const seen = new Promise<readonly string[] | undefined>((resolve) =>
      node.peers.on('status', (peer, status) => {
        if (peer.address === watcher.peers.address) resolve(status.features)
      }),
    )
    await watcher.start()
    try {
      expect(await seen).toEqual([OBSERVER_FEATURE])
    } finally {
      await watcher.stop()
    }
  }, 30_000)
})
