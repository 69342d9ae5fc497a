// Issue 17: with protocol 1.1 identity, peers are known by their proven key. When gossip
// looked a session's peer up by its Status address instead, every pushed block and every
// announcement lost its sender: blocks went back to whoever sent them, and every
// announcer got GET_BLOCK at once (4.5 full blocks per node in the simulator, against
// 2.6). These tests hold the sender of each over real TCP sessions between keyed peers.
import { type ChainStore, openChainStore } from '@chronos/chain-store'
import {
  type Block,
  createBlock,
  createGenesis,
  generateNodeKey,
  readNetworkParams,
} from '@chronos/codec'
import { type AnnounceAnswer, type Peer, PeerManager } from '@chronos/peer'
import { tcpTransport } from '@chronos/transport'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { GossipEngine, type GossipEvents, type GossipOptions } from '../src/index.js'

const ROUND_MS = 60_000 // long rounds: no round ends during a test
const genesis = createGenesis({
  network: 'gossip-proven-test',
  roundMs: ROUND_MS,
  timestamp: Date.now() - 5 * ROUND_MS,
})
const network = readNetworkParams(genesis)
const chain = () => ({
  height: 0,
  head: genesis.block_header.hash,
  genesis: genesis.block_header.hash,
})

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function candidate(tag: string): Block {
  return createBlock({
    height: 1,
    prevHash: genesis.block_header.hash,
    timestamp: Date.now(),
    producer: tag,
    transactions: [{ tag }],
  })
}

/** The node under test: gossip on a PeerManager that proves a key, as every 1.1 node does. */
async function gossipNode(
  options: Partial<GossipOptions> = {},
  onStore?: (store: ChainStore) => void,
) {
  const key = generateNodeKey()
  const store: ChainStore = await openChainStore({
    genesis,
    db: new MemoryLevel({ valueEncoding: 'utf8' }),
  })
  onStore?.(store)
  const manager = new PeerManager({
    transport: tcpTransport(),
    listen: '127.0.0.1:0',
    network,
    identity: key,
    chain: () => ({
      height: store.height(),
      head: store.head().block_header.hash,
      genesis: genesis.block_header.hash,
    }),
  })
  const gossip = new GossipEngine({ store, peers: manager, ...options })
  manager.handle({ pull: async () => null, ...gossip.handlers })
  await manager.start()
  gossip.start()
  cleanups.push(async () => {
    gossip.stop()
    await manager.stop()
    await store.close()
  })
  return { key: key.publicKey, manager, gossip }
}

/** A keyed peer that dials `to` (which dials back); it sends only what a test tells it to. */
async function provenPeer(to: { key: string; manager: PeerManager }) {
  const key = generateNodeKey()
  const manager = new PeerManager({
    transport: tcpTransport(),
    listen: '127.0.0.1:0',
    network,
    identity: key,
    peers: [to.manager.address],
    chain,
    handlers: { pull: () => null, newBlock: () => {}, newBlockHash: () => 'known' },
  })
  await manager.start()
  cleanups.push(() => manager.stop())
  const session = (await ready(manager, to.key)).outbound!
  return { key: key.publicKey, address: manager.address, manager, session }
}

/** Resolves with peer `id` of `manager` once our outbound session to it is ready. */
async function ready(manager: PeerManager, id: string): Promise<Peer> {
  for (;;) {
    const peer = manager.get(id)
    if (peer?.ready) return peer
    await new Promise((resolve) => manager.once('ready', resolve))
  }
}

/** `count` relay peers are ready on `manager` (its dial-backs to the peers that dialed it). */
async function relaying(manager: PeerManager, count: number): Promise<void> {
  while (manager.relayPeers().length < count)
    await new Promise((resolve) => manager.once('ready', resolve))
}

function next<K extends keyof GossipEvents>(
  gossip: GossipEngine,
  event: K,
): Promise<GossipEvents[K]> {
  return new Promise((resolve) =>
    gossip.once(event, ((...args: GossipEvents[K]) => resolve(args)) as never),
  )
}

describe('GossipEngine with peers proven by key', () => {
  it('a block pushed by a keyed peer is credited to it and never sent back to it, nor asked for again', async () => {
    const node = await gossipNode()
    const [pusher, other] = [await provenPeer(node), await provenPeer(node)]
    await relaying(node.manager, 2)
    const sent: GossipEvents['sent'][0][] = []
    node.gossip.on('sent', (s) => sent.push(s))
    const block = candidate('pushed')
    const hash = block.block_header.hash

    const taken = next(node.gossip, 'candidate')
    pusher.session.sendBlock(block)
    const [, info] = await taken
    expect(info).toEqual({ from: pusher.address, selected: true })
    // The relay happened before 'candidate' was emitted: to the other peer only (m = 1, whole).
    expect(sent).toEqual([{ to: other.address, hash, kind: 'block' }])
    expect(node.manager.get(pusher.key)?.known.has(hash)).toBe(true)
    // Announcing what it pushed gets BLOCK_KNOWN: the node never fetches a block it holds.
    expect(await pusher.session.announce(hash)).toBe('known')
    expect(sent).toHaveLength(1)
  })

  it('an announcement of a block already being fetched waits for it and is answered BLOCK_KNOWN', async () => {
    // Holds and fetch deadlines far past any load: only the block's arrival ends the wait.
    const node = await gossipNode({ fetchTimeoutMs: 120_000, maxAnnounceHoldMs: 120_000 })
    const [first, second] = [await provenPeer(node), await provenPeer(node)]
    const block = candidate('announced twice')
    const hash = block.block_header.hash

    expect(await first.session.announce(hash)).toBe('wanted')
    const announced = next(node.gossip, 'announced')
    const answer: Promise<AnnounceAnswer> = second.session.announce(hash)
    const [, from] = await announced
    expect(from).toEqual({ from: second.address })
    expect(node.gossip.pendingFetches).toBe(1)

    // The first announcer delivers what it was asked for; the waiting one is told it is known.
    const taken = next(node.gossip, 'candidate')
    first.session.sendBlock(block)
    expect((await taken)[1].from).toBe(first.address)
    expect(await answer).toBe('known')
    expect(node.gossip.pendingFetches).toBe(0)
  })

  it('an announcement whose block arrives while the store is read is answered BLOCK_KNOWN, not GET_BLOCK', async () => {
    const block = candidate('arrives during the lookup')
    const hash = block.block_header.hash
    let arrive = async () => {}
    const node = await gossipNode({}, (store) => {
      const has = store.has.bind(store)
      store.has = async (asked: string) => {
        const answer = await has(asked) // false: read before the block came ...
        if (asked === hash) await arrive() // ... and it comes before the answer is back
        return answer
      }
    })
    const [pusher, announcer] = [await provenPeer(node), await provenPeer(node)]
    arrive = async () => {
      const taken = next(node.gossip, 'candidate')
      pusher.session.sendBlock(block)
      expect((await taken)[1].from).toBe(pusher.address)
    }
    const announced: unknown[] = []
    node.gossip.on('announced', (h, info) => announced.push({ h, ...info }))

    expect(await announcer.session.announce(hash)).toBe('known')
    expect(announced).toEqual([])
    expect(node.gossip.pendingFetches).toBe(0)
  })
})
