import { type ChainStore, openChainStore } from '@chronos/chain-store'
import { type Block, createGenesis, type NodeKey, readNetworkParams } from '@chronos/codec'
import { chainBuilder } from '@chronos/codec/testing'
import { type PeerLimits, PeerManager, type ServerHandlers } from '@chronos/peer'
import { tcpTransport } from '@chronos/transport'
import { MemoryLevel } from 'memory-level'
import { SyncEngine, type SyncOptions } from '../src/index.js'

export const ROUND_MS = 1000
export const genesis = createGenesis({
  network: 'sync-test',
  roundMs: ROUND_MS,
  timestamp: 1_700_000_000_000,
})
export const params = readNetworkParams(genesis)

/**
 * The one builder of sync's tests and benchmark: blocks 5 ms into their
 * round, two transactions each, on this file's network unless `network`
 * names another (`tag` makes forks, `keyFor` seals, `step` skips rounds).
 */
export const { nextBlock, buildChain } = chainBuilder({
  network: params,
  offsetMs: 5,
  transactions: 2,
})

export async function memoryStore(
  blocks: readonly Block[] = [],
  network: Block = genesis,
): Promise<ChainStore> {
  const store = await openChainStore({
    genesis: network,
    db: new MemoryLevel({ valueEncoding: 'utf8' }),
  })
  for (const block of blocks) await store.append(block)
  return store
}

export const chainStatus = (store: ChainStore) => () => ({
  height: store.height(),
  head: store.head().block_header.hash,
  genesis: store.genesis.block_header.hash,
})

export const noGossip: Omit<ServerHandlers, 'pull'> = { newBlock() {}, newBlockHash: () => 'known' }

export interface SyncNode {
  store: ChainStore
  peers: PeerManager
  sync: SyncEngine
  /** PULL_BLOCKs this node answered. */
  served: () => number
  stop(): Promise<void>
}

/** A node with a TCP PeerManager, an in-memory store and a SyncEngine. */
export async function startSyncNode(
  options: {
    blocks?: readonly Block[]
    dial?: string[]
    genesis?: Block
    /** A node key, proven to peers that ask (section 11): the peer is then known by it. */
    identity?: NodeKey
    /** PeerManager limits over the defaults below. */
    limits?: Partial<PeerLimits>
  } & Partial<SyncOptions> = {},
): Promise<SyncNode> {
  const store = await memoryStore(options.blocks, options.genesis)
  let served = 0
  const peers = new PeerManager({
    transport: tcpTransport(),
    listen: '127.0.0.1:0',
    peers: options.dial,
    identity: options.identity,
    chain: chainStatus(store),
    handlers: {
      ...noGossip,
      pull: (height) => {
        served++
        return sync.serve(height)
      },
    },
    limits: { statusIntervalMs: 100, reconnectMinMs: 50, ...options.limits },
  })
  const sync: SyncEngine = new SyncEngine({ ...options, store, peers })
  await peers.start()
  return {
    store,
    peers,
    sync,
    served: () => served,
    async stop() {
      sync.stop()
      await peers.stop()
      await store.close()
    },
  }
}

/**
 * A peer that serves whatever blocks it is given, valid or not, and claims
 * whatever it is told (by default the last block of `chain`). `pulls` counts
 * the PULL_BLOCKs it was sent.
 */
export async function startFakeServer(
  chain: readonly Block[],
  claim: { height: number; head?: string } = headOf(chain.at(-1) ?? genesis),
  identity?: NodeKey,
) {
  let pulls = 0
  const peers = new PeerManager({
    transport: tcpTransport(),
    listen: '127.0.0.1:0',
    identity,
    chain: () => ({ ...claim, genesis: genesis.block_header.hash }),
    handlers: {
      ...noGossip,
      pull: (height) => {
        pulls++
        return height === 0 ? genesis : (chain[height - 1] ?? null)
      },
    },
  })
  await peers.start()
  return Object.assign(peers, { pulls: () => pulls })
}

const headOf = (block: Block) => ({
  height: block.block_header.height,
  head: block.block_header.hash,
})

/**
 * A peer on `chain` that shows it up to a tip it moves with `grow`, beats
 * its Status often, and can hold its PULL_BLOCK answer for a height until
 * released: the moves of a live fork, at moments a test chooses.
 */
export async function startGrowingPeer(chain: readonly Block[], tipHeight: number) {
  let tip = tipHeight
  /** Served up to here; undefined: up to the claimed tip (a Status that lags its chain serves more). */
  let served: number | undefined
  const holds = new Map<number, { reached: () => void; released: Promise<void> }>()
  const peers = new PeerManager({
    transport: tcpTransport(),
    listen: '127.0.0.1:0',
    chain: () => ({
      height: tip,
      head: chain[tip - 1]!.block_header.hash,
      genesis: genesis.block_header.hash,
    }),
    handlers: {
      ...noGossip,
      pull: async (height) => {
        const hold = holds.get(height)
        if (hold) {
          hold.reached()
          await hold.released
        }
        if (height === 0) return genesis
        return height <= (served ?? tip) ? (chain[height - 1] ?? null) : null
      },
    },
    limits: { statusIntervalMs: 50 },
  })
  await peers.start()
  return {
    peers,
    grow(to: number) {
      tip = to
    },
    /** Serves blocks up to `height` while its Status still claims the old tip (its beat lags). */
    serveUpTo(height: number) {
      served = height
    },
    /** Holds the answer for `height`; `reached` resolves when it is asked for. */
    hold(height: number) {
      let reached!: () => void
      let release!: () => void
      const asked = new Promise<void>((resolve) => (reached = resolve))
      const released = new Promise<void>((resolve) => (release = resolve))
      holds.set(height, { reached, released })
      return { reached: asked, release }
    },
  }
}

/** Resolves once the store's head is `hash` (or at `height` when a number is given). */
export function untilHead(store: ChainStore, target: string | number): Promise<void> {
  const reached = () =>
    typeof target === 'number'
      ? store.height() >= target
      : store.head().block_header.hash === target
  if (reached()) return Promise.resolve()
  return new Promise((resolve) => {
    const off = store.onHead(() => {
      if (!reached()) return
      off()
      resolve()
    })
  })
}
