import type { Block } from '@chronos/codec'
import { afterEach, describe, expect, it } from 'vitest'
import { findCommonAncestor, type SyncProgress, type SyncResult } from '../src/index.js'
import {
  buildChain,
  genesis,
  memoryStore,
  type SyncNode,
  startFakeServer,
  startGrowingPeer,
  startSyncNode,
  untilHead,
} from './helpers.js'

const nodes: { stop(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
})
async function node(options: Parameters<typeof startSyncNode>[0] = {}): Promise<SyncNode> {
  const started = await startSyncNode(options)
  nodes.push(started)
  return started
}

const main = buildChain(genesis, 300)

describe('findCommonAncestor', () => {
  it('finds the fork point by bisection in O(log n) requests', async () => {
    const ours = buildChain(genesis, 1000)
    const theirs = [...ours.slice(0, 377), ...buildChain(ours[376]!, 700, 'b')]
    const store = await memoryStore(ours)
    const pull = async (h: number): Promise<Block | null> =>
      h === 0 ? genesis : (theirs[h - 1] ?? null)
    const found = await findCommonAncestor(store, pull, theirs.length)
    expect(found.height).toBe(377)
    expect(found.requests).toBeLessThanOrEqual(12)
    await store.close()
  })

  it('costs one request when the peer extends our chain', async () => {
    const store = await memoryStore(main.slice(0, 50))
    const found = await findCommonAncestor(store, async (h) => main[h - 1] ?? null, 300)
    expect(found).toEqual({ height: 50, requests: 1 })
    await store.close()
  })
})

describe('SyncEngine', () => {
  it('brings a fresh node to a peer head, reporting progress', async () => {
    const source = await node({ blocks: main })
    const fresh = await node({ dial: [source.peers.address], progressIntervalMs: 0 })
    const progress: SyncProgress[] = []
    fresh.sync.on('progress', (p) => progress.push(p))
    await untilHead(fresh.store, main.at(-1)!.block_header.hash)
    expect((await fresh.store.verify()).ok).toBe(true)
    expect(progress.at(-1)).toMatchObject({ height: 300, target: 300 })
    expect(progress.some((p) => p.blocksPerSecond > 0 && p.etaSeconds !== undefined)).toBe(true)
  })

  it('stops promptly in the middle of a sync', async () => {
    const source = await node({ blocks: main })
    const fresh = await node({ window: 4 })
    const halfway = new Promise<void>((resolve) => {
      const off = fresh.store.onHead(({ head }) => {
        if (head.block_header.height < 50) return
        off()
        resolve()
      })
    })
    fresh.peers.connect(source.peers.address)
    await halfway
    fresh.sync.stop()
    await fresh.sync.idle()
    expect(fresh.sync.syncing).toBe(false)
    expect(fresh.store.height()).toBeLessThan(300)
  })

  it('spreads the range over several peers and finishes when one of them dies mid-sync', async () => {
    const sources = await Promise.all([1, 2, 3].map(() => node({ blocks: main })))
    const fresh = await node({ window: 16 })
    // Connect to all three before syncing starts, so that the range is shared.
    for (const s of sources) fresh.peers.connect(s.peers.address)
    const victim = sources[1]!
    const off = fresh.store.onHead(({ head }) => {
      if (head.block_header.height === 100) void victim.stop()
    })
    await untilHead(fresh.store, 300)
    off()
    expect(fresh.store.head().block_header.hash).toBe(main.at(-1)!.block_header.hash)
    const servedBy = sources.map((s) => s.served())
    expect(servedBy.filter((n) => n > 20).length).toBeGreaterThanOrEqual(2)
  })

  it('reorganises onto a longer fork atomically, and ignores a shorter one', async () => {
    const shared = main.slice(0, 40)
    const ours = [...shared, ...buildChain(shared.at(-1)!, 10, 'ours')]
    const longer = [...shared, ...buildChain(shared.at(-1)!, 12, 'longer')]
    const shorter = [...shared, ...buildChain(shared.at(-1)!, 5, 'shorter')]
    const local = await node({ blocks: ours })
    const removed: number[] = []
    local.store.onHead((change) => removed.push(change.removed.length))
    const short = await node({ blocks: shorter })
    local.peers.connect(short.peers.address)
    const long = await node({ blocks: longer })
    local.peers.connect(long.peers.address)
    await untilHead(local.store, longer.at(-1)!.block_header.hash)
    // One atomic reorg removed our 10-block suffix; later blocks were plain appends.
    expect(removed.filter((n) => n > 0)).toEqual([10])
    expect((await local.store.verify()).ok).toBe(true)
  })

  it('at equal height, moves to the fork whose first differing block has the smaller hash', async () => {
    const shared = main.slice(0, 20)
    const forkA = [...shared, ...buildChain(shared.at(-1)!, 5, 'x')]
    const forkB = [...shared, ...buildChain(shared.at(-1)!, 5, 'y')]
    const aWins = forkA[20]!.block_header.hash < forkB[20]!.block_header.hash
    const [better, worse] = aWins ? [forkA, forkB] : [forkB, forkA]
    const onWorse = await node({ blocks: worse })
    const onBetter = await node({ blocks: better })
    const done = new Promise((resolve) => onBetter.sync.once('done', resolve))
    onWorse.peers.connect(onBetter.peers.address)
    await untilHead(onWorse.store, better.at(-1)!.block_header.hash)
    // The node on the better chain looked at the worse one and kept its own.
    await done
    expect(onBetter.store.head().block_header.hash).toBe(better.at(-1)!.block_header.hash)
  })

  it('follows a fork that grows while it downloads, though our own chain outgrew the tip it first announced', async () => {
    const shared = main.slice(0, 20)
    const ours = [...shared, ...buildChain(shared.at(-1)!, 5, 'ours')]
    const theirs = [...shared, ...buildChain(shared.at(-1)!, 8, 'theirs')]
    const remote = await startGrowingPeer(theirs, 26)
    nodes.push(remote.peers)
    const local = await node({ blocks: ours })
    const lastBlock = remote.hold(26)
    const done = new Promise<SyncResult>((resolve) => local.sync.once('done', resolve))
    local.peers.connect(remote.peers.address)
    await lastBlock.reached
    // Mid-download we confirm two blocks of our own (27 beats the fork's 26)
    // while the fork grows to 28, as both sides of a healed partition do.
    for (const block of buildChain(ours.at(-1)!, 2, 'ours')) await local.store.append(block)
    const grown = new Promise<void>((resolve) =>
      local.peers.on('status', (_peer, status) => status.height === 28 && resolve()),
    )
    remote.grow(28)
    await grown
    lastBlock.release()
    // One sync reaches the fork's new tip, without starting over.
    expect(await done).toMatchObject({ ancestor: 20, reorged: true, height: 28 })
    expect(local.store.head().block_header.hash).toBe(theirs.at(-1)!.block_header.hash)
    expect((await local.store.verify()).ok).toBe(true)
  })

  it('drops and penalises a peer that serves a block invalid on its parent, and syncs from an honest one', async () => {
    const bad = [...main.slice(0, 99)]
    const parent = bad.at(-1)!
    // Well-formed (hashes recompute) but in the same round as its parent: invalid on it.
    const { createBlock } = await import('@chronos/codec')
    bad.push(
      createBlock({
        height: 100,
        prevHash: parent.block_header.hash,
        timestamp: parent.block_header.timestamp + 1,
        producer: 'liar',
        transactions: [],
      }),
    )
    bad.push(...main.slice(100))
    const liar = await startFakeServer(bad, main.at(-1))
    nodes.push(liar)
    const honest = await node({ blocks: main })
    const fresh = await node({ window: 8 })
    const penalty = new Promise<string[]>((resolve) =>
      fresh.peers.once('penalty', (address, reason) => resolve([address, reason])),
    )
    fresh.peers.connect(liar.address)
    expect(await penalty).toEqual([liar.address, 'INVALID_BLOCK'])
    // Nothing past the bad block was stored.
    expect(fresh.store.height()).toBe(99)
    fresh.peers.connect(honest.peers.address)
    await untilHead(fresh.store, main.at(-1)!.block_header.hash)
    expect((await fresh.store.verify()).ok).toBe(true)
  })
})
