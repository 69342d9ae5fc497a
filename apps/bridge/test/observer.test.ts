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

/**
 * Resolves once `condition` holds after a view change (checked on every delta); rejects after
 * `timeoutMs` (a generous bound, not a measurement) saying what it waited for.
 */
function until(
  view: NetworkView,
  condition: () => boolean,
  what: string,
  timeoutMs = 45_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      clearTimeout(timer)
      view.off('delta', check)
      error ? reject(error) : resolve()
    }
    const check = () => {
      if (condition()) finish()
    }
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), timeoutMs)
    view.on('delta', check)
    check()
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
    // Every head each node had, so a view that lags a producing node (a starved machine makes
    // it lag by rounds) is still checked exactly: it may show an old head, never a false one.
    const headsOf = new Map([a, b].map((node) => [node.address, new Set<string>()]))
    for (const node of [a, b]) {
      const had = headsOf.get(node.address)!
      const record = (head: Block) =>
        had.add(`${head.block_header.height} ${head.block_header.hash}`)
      record(node.store.head())
      node.store.onHead(({ head }) => record(head))
    }
    try {
      await observer.start()
      const byAddress = () => new Map(view.snapshot().nodes.map((n) => [n.address, n]))
      const falseViews: string[] = []
      const heightsShown = new Set<number>()
      view.on('delta', () => {
        for (const [address, v] of byAddress()) {
          const had = headsOf.get(address)
          if (!had || typeof v.height !== 'number' || !v.head) continue
          if (!had.has(`${v.height} ${v.head}`)) falseViews.push(`${address} ${v.height} ${v.head}`)
          if (address === a.address) heightsShown.add(v.height)
        }
      })
      await until(view, () => heightsShown.size >= 3, 'the view to show 3 heights of node A')
      // Blocks gossiped to the bridge carry their height and producer, and were seen by both nodes.
      await until(
        view,
        () =>
          view
            .snapshot()
            .blocks.some(
              (block) =>
                block.height !== null &&
                block.producer !== null &&
                new Set(block.reach.map((r) => r.node)).size === 2,
            ),
        'a block with height and producer reached by both nodes',
      )
      // Once the nodes stop producing, the view settles on exactly what their stores hold.
      for (const node of [a, b]) node.setProducing(false)
      const matches = () => {
        const seen = byAddress()
        return [a, b].every((node) => {
          const v = seen.get(node.address)
          return (
            v?.up === true &&
            v.height === node.store.height() &&
            v.head === node.store.head().block_header.hash &&
            typeof v.rttMs === 'number'
          )
        })
      }
      await until(view, matches, "both nodes' views equal to their stores once production stops")
      expect(falseViews, 'view states no node ever had').toEqual([])
      expect(Math.max(...heightsShown)).toBeGreaterThanOrEqual(2)
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
