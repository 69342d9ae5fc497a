import { type ChainStore, openChainStore } from '@chronos/chain-store'
import { type Block, createBlock, createGenesis, type Message, roundOf } from '@chronos/codec'
import { PeerManager, type ServerSession } from '@chronos/peer'
import { type Connection, type Listener, tcpTransport } from '@chronos/transport'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { GossipEngine, type GossipOptions } from '../src/index.js'

const ROUND_MS = 60_000 // long rounds: no round ends during a test
const genesis = createGenesis({
  network: 'gossip-test',
  roundMs: ROUND_MS,
  timestamp: Date.now() - 5 * ROUND_MS,
})

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function candidate(parent: Block, tag: string, timestamp = Date.now()): Block {
  return createBlock({
    height: parent.block_header.height + 1,
    prevHash: parent.block_header.hash,
    timestamp,
    producer: tag,
    transactions: [{ tag }],
  })
}

interface FakePeer {
  address: string
  received: Message[]
  /** How it answers NEW_BLOCK_HASH. */
  answer: 'GET_BLOCK' | 'BLOCK_KNOWN'
}

/** A minimal honest Server: answers SHAKEHAND and NEW_BLOCK_HASH, records what it receives. */
async function fakePeer(answer: FakePeer['answer'] = 'GET_BLOCK'): Promise<FakePeer> {
  const received: Message[] = []
  let listener!: Listener
  listener = await tcpTransport().listen('127.0.0.1:0', (connection: Connection) => {
    connection.on('message', (m) => {
      if (m.code === 'SHAKEHAND') {
        connection.send({
          code: 'SHAKEHAND',
          data: {
            timestamp: Date.now(),
            height: 0,
            address: listener.address,
            genesis: genesis.block_header.hash,
          },
        })
        return
      }
      received.push(m)
      if (m.code === 'NEW_BLOCK_HASH') connection.send({ code: peer.answer, data: m.data })
    })
  })
  cleanups.push(() => listener.close())
  const peer: FakePeer = { address: listener.address, received, answer }
  return peer
}

async function gossipNode(peers: string[], extra: Partial<GossipOptions> = {}) {
  const store: ChainStore = await openChainStore({
    genesis,
    db: new MemoryLevel({ valueEncoding: 'utf8' }),
  })
  let gossip!: GossipEngine
  const manager = new PeerManager({
    transport: tcpTransport(),
    listen: '127.0.0.1:0',
    peers,
    chain: () => ({
      height: store.height(),
      head: store.head().block_header.hash,
      genesis: genesis.block_header.hash,
    }),
    handlers: {
      pull: async (h) => (await store.getByHeight(h)) ?? null,
      newBlock: (b, s) => gossip.handlers.newBlock(b, s),
      newBlockHash: (h, s) => gossip.handlers.newBlockHash(h, s),
    },
  })
  const orphans: string[] = []
  gossip = new GossipEngine({
    store,
    peers: manager,
    onOrphan: (peer) => orphans.push(peer),
    fetchTimeoutMs: 200,
    ...extra,
  })
  await manager.start()
  gossip.start()
  cleanups.push(async () => {
    gossip.stop()
    await manager.stop()
    await store.close()
  })
  while (manager.readyPeers().length < peers.length)
    await new Promise((resolve) => manager.once('ready', resolve))
  return { store, manager, gossip, orphans }
}

/**
 * Resolves once every fake peer got either the block or its hash (and, if asked, the block);
 * throws after `deadlineMs` naming the peers still waiting.
 */
async function delivered(peers: FakePeer[], hash: string, deadlineMs = 10_000) {
  const has = (p: FakePeer) =>
    p.received.some(
      (m) =>
        (m.code === 'NEW_BLOCK' && m.data.block_header.hash === hash) ||
        (m.code === 'NEW_BLOCK_HASH' && m.data === hash && p.answer === 'BLOCK_KNOWN'),
    )
  const deadline = Date.now() + deadlineMs
  while (!peers.every(has)) {
    if (Date.now() > deadline) {
      const missing = peers.filter((p) => !has(p)).map((p) => `${p.address} (${p.answer})`)
      throw new Error(
        `block ${hash} not delivered within ${deadlineMs} ms to ${missing.join(', ')}`,
      )
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe('GossipEngine', () => {
  it('sends the block whole to √m peers and its hash to the rest; a GET_BLOCK brings the block', async () => {
    // Every peer answers an announcement with GET_BLOCK, so each of the six that get
    // the hash must then get the block itself, after the hash.
    const peers = await Promise.all(Array.from({ length: 9 }, () => fakePeer('GET_BLOCK')))
    const { gossip, manager } = await gossipNode(peers.map((p) => p.address))
    const sent: { to: string; kind: string }[] = []
    gossip.on('sent', (s) => sent.push({ to: s.to, kind: s.kind }))
    const block = candidate(genesis, 'me')
    const hash = block.block_header.hash
    await gossip.receive(block, undefined)
    expect(gossip.selectedCandidate?.block_header.hash).toBe(hash)
    const first = sent.slice(0, 9)
    expect(new Set(first.map((s) => s.to)).size).toBe(9)
    expect(first.filter((s) => s.kind === 'block')).toHaveLength(3)
    expect(first.filter((s) => s.kind === 'hash')).toHaveLength(6)
    for (const peer of manager.readyPeers()) expect(peer.known.has(hash)).toBe(true)
    await delivered(peers, hash)
    const announced = peers.filter((p) =>
      p.received.some((m) => m.code === 'NEW_BLOCK_HASH' && m.data === hash),
    )
    expect(announced).toHaveLength(6)
    for (const p of announced) {
      const codes = p.received.map((m) => m.code)
      expect(codes.indexOf('NEW_BLOCK')).toBeGreaterThan(codes.indexOf('NEW_BLOCK_HASH'))
      const answered = sent.filter((s) => s.to === p.address && s.kind === 'block')
      expect(answered, `block sent to ${p.address} after its GET_BLOCK`).toHaveLength(1)
    }
    // Receiving it again changes nothing and sends nothing.
    const before = sent.length
    await gossip.receive(block, undefined)
    expect(sent).toHaveLength(before)
    expect(before).toBe(9 + 6)
  })

  it('relays a better candidate but not a worse one, and never back to its sender', async () => {
    const peers = await Promise.all(Array.from({ length: 4 }, () => fakePeer('BLOCK_KNOWN')))
    const { gossip, manager } = await gossipNode(peers.map((p) => p.address))
    const [x, y] = [candidate(genesis, 'x'), candidate(genesis, 'y')]
    const [better, worse] = x.block_header.hash < y.block_header.hash ? [x, y] : [y, x]
    const sender = manager.get(peers[0]!.address)!
    await gossip.receive(worse, sender)
    await delivered(peers.slice(1), worse.block_header.hash)
    expect(peers[0]!.received).toHaveLength(0)
    const before = peers.map((p) => p.received.length)
    await gossip.receive(better, sender)
    expect(gossip.selectedCandidate).toBe(better)
    await delivered(peers.slice(1), better.block_header.hash)
    const after = peers.map((p) => p.received.length)
    expect(after[0]).toBe(0)
    // Now the worse one arrives again from another peer: not selected, not relayed.
    await gossip.receive(worse, manager.get(peers[1]!.address))
    expect(gossip.selectedCandidate).toBe(better)
    expect(peers.map((p) => p.received.length)).toEqual(after)
    expect(after.slice(1).every((n, i) => n > before[i + 1]!)).toBe(true)
  })

  it('drops late blocks; a block with an unknown parent is held and asks for a sync', async () => {
    const peer = await fakePeer()
    const { gossip, manager, orphans } = await gossipNode([peer.address])
    const dropped: string[] = []
    gossip.on('dropped', (_b, info) => dropped.push(info.reason))
    gossip.on('held', (_b, info) => dropped.push(`held ${info.reason}`))
    const from = manager.get(peer.address)!
    const lastRound =
      roundOf(Date.now(), { genesisTime: genesis.block_header.timestamp, roundMs: ROUND_MS }) - 1
    await gossip.receive(
      candidate(genesis, 'late', genesis.block_header.timestamp + lastRound * ROUND_MS + 1),
      from,
    )
    const unknownParent = candidate(candidate(genesis, 'elsewhere', Date.now() - ROUND_MS), 'child')
    await gossip.receive(unknownParent, from)
    expect(dropped).toEqual(['LATE', 'held ORPHAN'])
    expect(gossip.heldOrphans).toBe(1)
    expect(orphans).toEqual([peer.address])
    expect(gossip.selectedCandidate).toBeUndefined()
    expect(peer.received).toHaveLength(0)
  })

  it('holds a current-round candidate whose parent it lacks and selects it once the parent is its head', async () => {
    const peer = await fakePeer('BLOCK_KNOWN')
    const { gossip, manager, store } = await gossipNode([peer.address])
    const parent = candidate(genesis, 'parent', Date.now() - ROUND_MS)
    const child = candidate(parent, 'child')
    const held: string[] = []
    gossip.on('held', (b, info) => held.push(`${b.block_header.producer} ${info.reason}`))
    await gossip.receive(child, manager.get(peer.address))
    expect(held).toEqual(['child ORPHAN'])
    expect(gossip.selectedCandidate).toBeUndefined()
    const selected = new Promise<Block>((resolve) =>
      gossip.on('candidate', (b, info) => info.selected && resolve(b)),
    )
    await store.append(parent) // what sync does once it fetched the parent
    expect((await selected).block_header.hash).toBe(child.block_header.hash)
    expect(gossip.heldOrphans).toBe(0)
  })

  // The parent lookup is the one await in placing a block; a sync can land the parent meanwhile
  // (the network-catchup flake). Each test makes that land exactly inside the lookup.
  it('a candidate whose parent lands while its parent is looked up is selected, not held for ever', async () => {
    const peer = await fakePeer('BLOCK_KNOWN')
    const { gossip, manager, store } = await gossipNode([peer.address])
    const parent = candidate(genesis, 'parent', Date.now() - ROUND_MS)
    const child = candidate(parent, 'child')
    const has = store.has.bind(store)
    store.has = async (hash: string) => {
      const answer = await has(hash) // false: the lookup read the store before the parent landed
      await store.append(parent) // ... and the head moved before the answer came back
      return answer
    }
    const events: string[] = []
    gossip.on('held', (b, info) => events.push(`held ${b.block_header.producer} ${info.reason}`))
    gossip.on('dropped', (b, info) =>
      events.push(`dropped ${b.block_header.producer} ${info.reason}`),
    )
    await gossip.receive(child, manager.get(peer.address))
    expect(events).toEqual([])
    expect(gossip.selectedCandidate?.block_header.hash).toBe(child.block_header.hash)
    expect(gossip.heldOrphans).toBe(0)
  })

  it('a candidate whose parent a reorg makes the head during the lookup is selected, not dropped NOT_ON_HEAD', async () => {
    const peer = await fakePeer('BLOCK_KNOWN')
    const { gossip, manager, store } = await gossipNode([peer.address])
    const ours = candidate(genesis, 'ours', Date.now() - 2 * ROUND_MS)
    await store.append(ours)
    const base = candidate(genesis, 'their-base', Date.now() - 2 * ROUND_MS + 1)
    const theirs = candidate(base, 'theirs', Date.now() - ROUND_MS)
    const child = candidate(theirs, 'child')
    const has = store.has.bind(store)
    store.has = async (hash: string) => {
      await store.reorg(0, [base, theirs]) // the sync's fork lands first ...
      return has(hash) // ... so the lookup finds the parent stored
    }
    const events: string[] = []
    gossip.on('dropped', (b, info) =>
      events.push(`dropped ${b.block_header.producer} ${info.reason}`),
    )
    await gossip.receive(child, manager.get(peer.address))
    expect(events).toEqual([])
    expect(gossip.selectedCandidate?.block_header.hash).toBe(child.block_header.hash)
  })

  it('screens a replayed late block by its header alone, and remembers it (item 9)', async () => {
    const { gossip } = await gossipNode([])
    const session = { peerAddress: undefined } as unknown as ServerSession
    const late = candidate(genesis, 'late', Date.now() - 2 * ROUND_MS)
    const reasons: string[] = []
    gossip.on('ignored', (_h, info) => reasons.push(info.reason))
    const verdicts = Array.from({ length: 200 }, () =>
      gossip.handlers.screenBlock(late.block_header, session),
    )
    expect(new Set(verdicts)).toEqual(new Set(['ignore']))
    expect(reasons[0]).toBe('LATE')
    expect(reasons.slice(1).every((r) => r === 'REFUSED_BEFORE')).toBe(true)
    // A block of the current round passes the screen; once it is a candidate, a replay is KNOWN.
    const fresh = candidate(genesis, 'fresh')
    expect(gossip.handlers.screenBlock(fresh.block_header, session)).toBe('accept')
    await gossip.receive(fresh, undefined)
    expect(gossip.handlers.screenBlock(fresh.block_header, session)).toBe('ignore')
    expect(reasons.at(-1)).toBe('KNOWN')
  })

  it('declines announcements past the per-announcer budget, answering them at the round end (item 10)', async () => {
    const { gossip } = await gossipNode([], { maxAnnouncesPerPeer: 5 })
    const session = { peerAddress: undefined } as unknown as ServerSession
    let declined = 0
    gossip.on('announceDeclined', () => declined++)
    const answers: string[] = []
    const pending = Array.from({ length: 20 }, (_, i) =>
      Promise.resolve(gossip.handlers.newBlockHash(i.toString(16).padStart(64, '0'), session)).then(
        (a) => void answers.push(a),
      ),
    )
    await Promise.all(pending.slice(0, 5))
    expect(answers).toEqual(['wanted', 'wanted', 'wanted', 'wanted', 'wanted'])
    expect(declined).toBe(15)
    // The declined ones are answered (BLOCK_KNOWN) only when the round ends: here, at stop.
    gossip.stop()
    await Promise.all(pending)
    expect(answers.filter((a) => a === 'known')).toHaveLength(15)
  })
})
