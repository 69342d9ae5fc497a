import {
  type Block,
  compareBlocks,
  createGenesis,
  generateNodeKey,
  readNetworkParams,
} from '@chronos/codec'
import { PeerManager } from '@chronos/peer'
import { tcpTransport } from '@chronos/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { findCommonAncestor } from '../src/ancestor.js'
import type { SyncFailure, SyncProgress, SyncResult } from '../src/index.js'
import {
  buildChain,
  genesis,
  memoryStore,
  nextBlock,
  noGossip,
  params,
  ROUND_MS,
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
  /** Our 1,000-block chain, and a peer's that leaves it after `shared` blocks. */
  async function forkAt(shared: number) {
    const ours = buildChain(genesis, 1000)
    const theirs = [...ours.slice(0, shared), ...buildChain(ours[shared - 1]!, 700, { tag: 'b' })]
    const store = await memoryStore(ours)
    const pull = async (h: number): Promise<Block | null> =>
      h === 0 ? genesis : (theirs[h - 1] ?? null)
    return { store, pull, theirs }
  }

  it('finds a deep fork point by bisection in O(log n) round trips', async () => {
    const { store, pull, theirs } = await forkAt(377)
    const found = await findCommonAncestor(store, pull, theirs.length)
    expect(found.height).toBe(377)
    // The tip, the window below it (one round trip), then bisection of the 991 heights below.
    expect(found.roundTrips).toBeLessThanOrEqual(2 + 10)
    expect(found.requests).toBeLessThanOrEqual(1 + 8 + 10)
    await store.close()
  })

  it('finds a fork just below the window by bisection', async () => {
    for (const depth of [9, 10, 17]) {
      const { store, pull, theirs } = await forkAt(1000 - depth)
      const found = await findCommonAncestor(store, pull, theirs.length)
      expect(found.height).toBe(1000 - depth)
      expect(found.roundTrips).toBeGreaterThan(2)
      await store.close()
    }
  })

  it('finds a shallow fork point (a healed partition) in two round trips', async () => {
    for (const depth of [1, 5, 8]) {
      const { store, pull, theirs } = await forkAt(1000 - depth)
      const found = await findCommonAncestor(store, pull, theirs.length)
      expect(found).toEqual({ height: 1000 - depth, requests: 9, roundTrips: 2 })
      await store.close()
    }
  })

  it('costs one request when the peer extends our chain', async () => {
    const store = await memoryStore(main.slice(0, 50))
    const found = await findCommonAncestor(store, async (h) => main[h - 1] ?? null, 300)
    expect(found).toEqual({ height: 50, requests: 1, roundTrips: 1 })
    await store.close()
  })

  it('finds a fork above genesis on short chains, at every height', async () => {
    const ours = buildChain(genesis, 6)
    for (let shared = 1; shared < 6; shared++) {
      const theirs = [...ours.slice(0, shared), ...buildChain(ours[shared - 1]!, 4, { tag: 'b' })]
      const store = await memoryStore(ours)
      const found = await findCommonAncestor(
        store,
        async (h) => (h === 0 ? genesis : (theirs[h - 1] ?? null)),
        theirs.length,
      )
      expect(found.height).toBe(shared)
      await store.close()
    }
  })

  it('searches short chains without asking below genesis', async () => {
    const theirs = buildChain(genesis, 3, { tag: 'b' })
    const store = await memoryStore(main.slice(0, 2))
    const asked: number[] = []
    const found = await findCommonAncestor(
      store,
      async (h) => {
        asked.push(h)
        return h === 0 ? genesis : (theirs[h - 1] ?? null)
      },
      3,
    )
    expect(found.height).toBe(0)
    expect(Math.min(...asked)).toBe(0)
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
    const ours = [...shared, ...buildChain(shared.at(-1)!, 10, { tag: 'ours' })]
    const longer = [...shared, ...buildChain(shared.at(-1)!, 12, { tag: 'longer' })]
    const shorter = [...shared, ...buildChain(shared.at(-1)!, 5, { tag: 'shorter' })]
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
    const forkA = [...shared, ...buildChain(shared.at(-1)!, 5, { tag: 'x' })]
    const forkB = [...shared, ...buildChain(shared.at(-1)!, 5, { tag: 'y' })]
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

  it('in a permissioned network, moves to the equal-length fork whose first block is in turn, though its hash is larger', async () => {
    const keys = [generateNodeKey(), generateNodeKey()]
    const permissioned = createGenesis({
      network: 'sync-permissioned',
      roundMs: ROUND_MS,
      timestamp: genesis.block_header.timestamp,
      producers: keys.map((k) => k.publicKey),
    })
    const network = readNetworkParams(permissioned)
    const inTurn = { network, keyFor: (round: number) => keys[round % 2]! }
    const outOfTurn = { network, keyFor: (round: number) => keys[(round + 1) % 2]! }
    const shared = buildChain(permissioned, 5, inTurn)
    const theirs = [...shared, ...buildChain(shared.at(-1)!, 3, { ...inTurn, tag: 'in' })]
    let ours: Block[] = []
    for (let n = 0; ; n++) {
      const first = nextBlock(shared.at(-1)!, { ...outOfTurn, tag: `out-${n}` })
      if (first.block_header.hash > theirs[5]!.block_header.hash) continue
      ours = [...shared, first, ...buildChain(first, 2, { ...inTurn, tag: `out-${n}` })]
      break
    }
    const onOurs = await node({ genesis: permissioned, blocks: ours })
    const onTheirs = await node({ genesis: permissioned, blocks: theirs })
    const looked = new Promise((resolve) => onTheirs.sync.once('done', resolve))
    onOurs.peers.connect(onTheirs.peers.address)
    await untilHead(onOurs.store, theirs.at(-1)!.block_header.hash)
    // The node on the in-turn fork looked at ours, smaller hash and all, and kept its own.
    await looked
    expect(onTheirs.store.head().block_header.hash).toBe(theirs.at(-1)!.block_header.hash)
  })

  it('follows a fork that grows while it downloads, though our own chain outgrew the tip it first announced', async () => {
    const shared = main.slice(0, 20)
    const ours = [...shared, ...buildChain(shared.at(-1)!, 5, { tag: 'ours' })]
    const theirs = [...shared, ...buildChain(shared.at(-1)!, 8, { tag: 'theirs' })]
    const remote = await startGrowingPeer(theirs, 26)
    nodes.push(remote.peers)
    const local = await node({ blocks: ours })
    const lastBlock = remote.hold(26)
    const done = new Promise<SyncResult>((resolve) => local.sync.once('done', resolve))
    local.peers.connect(remote.peers.address)
    await lastBlock.reached
    // Mid-download we confirm two blocks of our own (27 beats the fork's 26)
    // while the fork grows to 28, as both sides of a healed partition do.
    for (const block of buildChain(ours.at(-1)!, 2, { tag: 'ours' }))
      await local.store.append(block)
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

  it.each([
    ['the search for the common ancestor', 25],
    ['the download', 24],
  ])(
    "after a heal, reorganises onto a better equal-length fork though our own chain grew during %s and the peer's Status has not caught up",
    async (_during, heldHeight) => {
      const shared = main.slice(0, 20)
      // Both sides of a healed partition, equal in length; theirs wins at its first block.
      let ours: Block[] = []
      let theirs: Block[] = []
      for (let n = 0; ; n++) {
        ours = [...shared, ...buildChain(shared.at(-1)!, 6, { tag: `ours-${n}` })]
        theirs = [...shared, ...buildChain(shared.at(-1)!, 6, { tag: `theirs-${n}` })]
        if (theirs[20]!.block_header.hash < ours[20]!.block_header.hash) break
      }
      const remote = await startGrowingPeer(theirs, 25)
      nodes.push(remote.peers)
      const local = await node({ blocks: ours.slice(0, 25) })
      // Height 25 is the ancestor search's first ask; 24 is asked only by the download.
      const lastBlock = remote.hold(heldHeight)
      const done = new Promise<SyncResult>((resolve) => local.sync.once('done', resolve))
      local.peers.connect(remote.peers.address)
      await lastBlock.reached
      // The round ends on both sides mid-download: we confirm our block 26, the peer its own 26,
      // but its next Status beat has not come yet (under load it may come rounds later).
      await local.store.append(ours[25]!)
      remote.serveUpTo(26)
      lastBlock.release()
      // One sync: it asks the peer for the block after the tip its Status named, rather than
      // judge a fork one block short as not better and wait for a beat that may come too late.
      expect(await done).toMatchObject({ ancestor: 20, reorged: true, height: 26 })
      expect(local.store.head().block_header.hash).toBe(theirs[25]!.block_header.hash)
      expect((await local.store.verify()).ok).toBe(true)
    },
  )

  it('goes on when gossip confirms, mid-download, the very block being downloaded', async () => {
    const remote = await startGrowingPeer(main, 12)
    nodes.push(remote.peers)
    const local = await node({ blocks: main.slice(0, 10), oneAheadGraceMs: 0 })
    const held = remote.hold(11)
    const done = new Promise<SyncResult>((resolve) => local.sync.once('done', resolve))
    local.peers.connect(remote.peers.address)
    await held.reached
    // Our own round confirms block 11 while its download is under way.
    await local.store.append(main[10]!)
    held.release()
    // Block 11 is recognised as ours, 12 is appended on it: no failed append, no reorg.
    expect(await done).toMatchObject({ ancestor: 10, applied: 1, reorged: false, height: 12 })
    expect(local.store.head().block_header.hash).toBe(main[11]!.block_header.hash)
  })

  it('drops and penalises a peer that serves a block invalid on its parent, and syncs from an honest one', async () => {
    const bad = [...main.slice(0, 99)]
    const parent = bad.at(-1)!
    // Well-formed (hashes recompute) but in the same round as its parent: invalid on it.
    bad.push(nextBlock(parent, { step: 0, producer: 'liar' }))
    bad.push(...main.slice(100))
    const liar = await startFakeServer(bad)
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

describe('SyncEngine against lying and future-stamped peers', () => {
  const G = genesis.block_header.timestamp
  /** Resolves once `address` finished its handshake with `local`, or was closed trying. */
  const settled = (local: SyncNode, address: string) =>
    new Promise<void>((resolve) => {
      const seen = (peer: { address: string }) => peer.address === address && resolve()
      local.peers.on('ready', seen)
      local.peers.on('disconnect', seen)
    })

  it('sends no PULL_BLOCK for a Status of height 2^53-1 without a head, and syncs from honest peers', async () => {
    const liar = await startFakeServer([], { height: Number.MAX_SAFE_INTEGER })
    nodes.push(liar)
    const honest = await node({ blocks: main })
    const fresh = await node()
    const liarSettled = settled(fresh, liar.address)
    fresh.peers.connect(liar.address)
    await liarSettled
    fresh.peers.connect(honest.peers.address)
    await untilHead(fresh.store, main.at(-1)!.block_header.hash)
    expect(liar.pulls()).toBe(0)
    // Nor does the lie hold back production.
    expect(fresh.sync.behind()).toBe(false)
  })

  it('does not ask again and again for a headless claim whose sync failed', async () => {
    // Claims more than the honest chain, without a head, and serves blocks at the heights asked
    // for that link to nothing we know (another fork's blocks are no offence).
    const elsewhere = createGenesis({ network: 'elsewhere', roundMs: ROUND_MS, timestamp: G })
    const unlinked = buildChain(elsewhere, 400, { tag: 'unlinked' })
    const liar = await startFakeServer(unlinked, { height: 400 })
    nodes.push(liar)
    const honest = await node({ blocks: main })
    const fresh = await node({ window: 16 })
    const liarSettled = settled(fresh, liar.address)
    fresh.peers.connect(liar.address)
    await liarSettled
    fresh.peers.connect(honest.peers.address)
    // Before the claim was remembered without a head, the liar was picked again forever.
    await untilHead(fresh.store, main.at(-1)!.block_header.hash)
    // One ancestor probe, then at most one download window's worth (twice the window ahead).
    expect(liar.pulls()).toBeLessThanOrEqual(1 + 2 * 16)
    // Its claim, found false, no longer holds back production.
    expect(fresh.sync.behind()).toBe(false)
  })

  /**
   * A Server on the main chain whose first `stalls` PULL_BLOCKs are never answered (our request
   * times out and closes the session, REQUEST_TIMEOUT, as a starved peer's would). Its claim never
   * changes. `dialBack: false` keeps it from dialing us, so that it is gone between our dials.
   */
  async function stallingServer(stalls: number, { dialBack = true } = {}) {
    const pullTimes: number[] = []
    const server = new PeerManager({
      transport: tcpTransport(),
      listen: '127.0.0.1:0',
      chain: () => ({
        height: main.length,
        head: main.at(-1)!.block_header.hash,
        genesis: genesis.block_header.hash,
      }),
      handlers: {
        ...noGossip,
        pull: (height) => {
          pullTimes.push(Date.now())
          if (pullTimes.length <= stalls) return new Promise<never>(() => {})
          return height === 0 ? genesis : (main[height - 1] ?? null)
        },
      },
      ...(dialBack ? {} : { limits: { maxOutbound: 0 } }),
    })
    await server.start()
    nodes.push(server)
    return { server, pullTimes }
  }

  /** Every failed sync `fresh` reports. */
  function failuresOf(fresh: SyncNode): SyncFailure[] {
    const failures: SyncFailure[] = []
    fresh.sync.on('failed', (failure) => failures.push(failure))
    return failures
  }

  /** When each of `fresh`'s sessions closed REQUEST_TIMEOUT. */
  function timeouts(fresh: SyncNode): number[] {
    const at: number[] = []
    fresh.peers.on('disconnect', (_peer, info) => {
      if (info.reason === 'REQUEST_TIMEOUT') at.push(Date.now())
    })
    return at
  }

  it('tries a claim again after a backoff when its sync failed with the connection (production stopped, so the claim never changes), and is never held back by it meanwhile', async () => {
    const { server, pullTimes } = await stallingServer(1)
    const fresh = await node({
      dial: [server.address],
      limits: { requestTimeoutMs: 300, reconnectMaxMs: 200 },
      failedSyncRetryMs: 1500,
    })
    const timedOut = timeouts(fresh)
    const behindOnRedial: boolean[] = []
    fresh.peers.on('ready', () => {
      if (timedOut.length > 0) behindOnRedial.push(fresh.sync.behind())
    })
    // Before, the claim was remembered as rejected until it changed: nothing was asked again.
    const failures = failuresOf(fresh)
    await untilHead(fresh.store, main.at(-1)!.block_header.hash)
    // (A starved machine may time out a later request too: only the first one is the stall's.)
    expect(timedOut.length).toBeGreaterThanOrEqual(1)
    expect(failures[0]).toMatchObject({ retryAtMs: expect.any(Number) })
    expect(failures[0]!.retryAtMs! - timedOut[0]!).toBeGreaterThanOrEqual(1450)
    // Redialed long before the retry: the claim that failed held nothing back meanwhile...
    expect(behindOnRedial[0]).toBe(false)
    // ...and was not asked again before its backoff.
    expect(pullTimes[1]! - timedOut[0]!).toBeGreaterThanOrEqual(1450)
  })

  it('doubles the wait before each retry of a claim that keeps failing, across reconnects', async () => {
    const { server, pullTimes } = await stallingServer(2, { dialBack: false })
    const fresh = await node({
      dial: [server.address],
      limits: { requestTimeoutMs: 300, reconnectMaxMs: 100 },
      failedSyncRetryMs: 400,
    })
    const timedOut = timeouts(fresh)
    await untilHead(fresh.store, main.at(-1)!.block_header.hash)
    expect(timedOut.length).toBeGreaterThanOrEqual(2)
    // Each timeout closed our only connection to it: what we judged survived the disconnect.
    expect(pullTimes[1]! - timedOut[0]!).toBeGreaterThanOrEqual(390)
    expect(pullTimes[2]! - timedOut[1]!).toBeGreaterThanOrEqual(790)
  })

  it('penalises a peer whose Status claims blocks it does not serve', async () => {
    const liar = await startFakeServer(main.slice(0, 10), { height: 50 })
    nodes.push(liar)
    const fresh = await node({ window: 4 })
    const penalty = new Promise<string[]>((resolve) =>
      fresh.peers.once('penalty', (address, reason) => resolve([address, reason])),
    )
    const failed = new Promise<SyncFailure>((resolve) => fresh.sync.once('failed', resolve))
    fresh.peers.connect(liar.address)
    expect(await penalty).toEqual([liar.address, 'CLAIM_NOT_SERVED'])
    // Closed for its offence, the sync ends with nobody left to serve; the claim was disproved
    // all the same, so it is not tried again.
    expect(await failed).toMatchObject({ peer: liar.address, height: 50, retryAtMs: undefined })
    // What it did serve is valid and may be kept; nothing else is.
    const height = fresh.store.height()
    expect(height).toBeLessThanOrEqual(10)
    expect(fresh.store.head().block_header.hash).toBe(
      (main[height - 1] ?? genesis).block_header.hash,
    )
  })

  it('penalises a peer known by its proven key, not only one known by its address', async () => {
    const liarKey = generateNodeKey()
    const liar = await startFakeServer(main.slice(0, 10), { height: 50 }, liarKey)
    nodes.push(liar)
    const fresh = await node({ window: 4, identity: generateNodeKey() })
    const penalty = new Promise<string[]>((resolve) =>
      fresh.peers.once('penalty', (id, reason) => resolve([id, reason])),
    )
    fresh.peers.connect(liar.address)
    expect(await penalty).toEqual([liarKey.publicKey, 'CLAIM_NOT_SERVED'])
  })

  it('neither confirms nor counts blocks of rounds that have not ended: a fork ahead of the clock waits for its rounds', async () => {
    // Round 9 is under way: honest history is heights 1-8 (rounds 1-8).
    let clock = G + 9 * ROUND_MS + 500
    const local = await node({ blocks: main.slice(0, 8), now: () => clock })
    const honestHead = main[7]!.block_header.hash
    // A fork from height 4 up to height 10 (round 10, half a round ahead of the clock: timely),
    // whose first block loses to ours: only its length could make it win.
    let fork: Block[] = []
    for (let n = 0; ; n++) {
      fork = buildChain(main[3]!, 6, { tag: `ahead-${n}` })
      if (compareBlocks(fork[0]!.block_header, main[4]!.block_header, params) > 0) break
    }
    const attacker = await startFakeServer([...main.slice(0, 4), ...fork])
    nodes.push(attacker)
    const results: SyncResult[] = []
    const nextDone = () =>
      new Promise<SyncResult>((resolve) =>
        local.sync.once('done', (result) => {
          results.push(result)
          resolve(result)
        }),
      )
    const first = nextDone()
    local.peers.connect(attacker.address)
    // Held 5-8 are as long as ours and lose; 9 is of the current round and ends the sync.
    expect(await first).toMatchObject({ ancestor: 4, applied: 0, reorged: false })
    expect(local.store.head().block_header.hash).toBe(honestHead)
    // A chain ahead of the clock does not stop us producing on our history meanwhile.
    expect(local.sync.behind()).toBe(false)
    // Round 9 ends: its block now counts, and makes the fork longer than our history.
    const second = nextDone()
    clock = G + 10 * ROUND_MS + 500
    expect(await second).toMatchObject({ ancestor: 4, reorged: true, height: 9 })
    expect(local.store.head().block_header.hash).toBe(fork[4]!.block_header.hash)
    expect((await local.store.verify()).ok).toBe(true)
  })

  it('logs nothing per block while following: no progress event for a sync shorter than the interval', async () => {
    const remote = await startGrowingPeer(main, 10)
    nodes.push(remote.peers)
    const local = await node({
      blocks: main.slice(0, 10),
      oneAheadGraceMs: 0,
      progressIntervalMs: 60_000,
    })
    const progress: SyncProgress[] = []
    local.sync.on('progress', (p) => progress.push(p))
    const dones: SyncResult[] = []
    local.sync.on('done', (result) => dones.push(result))
    local.peers.connect(remote.peers.address)
    for (let height = 11; height <= 15; height++) {
      remote.grow(height)
      await untilHead(local.store, main[height - 1]!.block_header.hash)
    }
    await local.sync.idle()
    expect(progress).toEqual([])
    expect(dones.filter((d) => d.applied > 0).map((d) => d.applied)).toEqual([1, 1, 1, 1, 1])
  })
})
