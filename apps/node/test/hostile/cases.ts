// The hostile inputs: each sends something a conforming peer never would
// and reports what the node did. `expected` is what PROTOCOL.md requires
// (close with a stable reason code, or drop the message and stay open).
// Outcomes are read from typed close reasons and gossip events, never log text.
import { randomBytes } from 'node:crypto'
import { type Block, createBlock, createGenesis, roundStart } from '@chronos/codec'
import { nextRound } from '../network.js'
import { AttackerHost, openFrom, receivedTotals } from './attacker.js'
import type { HostileContext } from './harness.js'
import { closeCode } from './observed-transport.js'
import { frameOf, jsonFrame, type RawPeer } from './raw-peer.js'

export type { HostileContext } from './harness.js'

export interface HostileCase {
  name: string
  expected: string
  run(ctx: HostileContext): Promise<string>
}

/**
 * Sends `count` messages in batches, yielding between them: this attacker shares the node's
 * process, so it is for a few hundred messages; a flood runs in an attacker host (attacker.ts).
 */
export async function sendMany(
  peer: RawPeer,
  count: number,
  make: (i: number) => unknown,
  batch = 2_000,
): Promise<void> {
  for (let i = 0; i < count; ) {
    const frames: Buffer[] = []
    for (const end = Math.min(count, i + batch); i < end; i++) frames.push(jsonFrame(make(i)))
    peer.write(Buffer.concat(frames))
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Runs `attack` with an attacker host of its own (a child process), gone when it ends. */
async function withAttacker<T>(attack: (host: AttackerHost) => Promise<T>): Promise<T> {
  const host = await AttackerHost.start()
  try {
    return await attack(host)
  } finally {
    await host.stop()
  }
}

/** Waits for the node to close `peer` and reads the typed reason. */
export async function closeOutcome(ctx: HostileContext, peer: RawPeer): Promise<string> {
  const closedInTime = await Promise.race([
    peer.closed.then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 10_000)),
  ])
  if (!closedInTime) {
    peer.close()
    return 'stayed open'
  }
  const info = await ctx.closeOf(peer, 5_000)
  if (!info) return 'closed, no close info'
  return `close ${closeCode(info)}`
}

/** What gossip did with `hash` (dropped, screened out, held, taken), within `timeoutMs`. */
export function blockOutcome(
  ctx: HostileContext,
  hash: string,
  timeoutMs = 5_000,
): Promise<string | undefined> {
  const gossip = ctx.node.gossip
  return new Promise((resolve) => {
    const finish = (outcome: string | undefined) => {
      clearTimeout(timer)
      gossip.off('dropped', onDropped).off('ignored', onIgnored).off('held', onHeld)
      gossip.off('candidate', onCandidate)
      resolve(outcome)
    }
    const onDropped = (b: Block, info: { reason: string }) =>
      b.block_header.hash === hash && finish(`drop ${info.reason}`)
    // The screen (or the refused cache) refused it before any verification.
    const onIgnored = (h: string, info: { reason: string }) =>
      h === hash && finish(`drop ${info.reason}`)
    const onHeld = (b: Block, info: { reason: string }) =>
      b.block_header.hash === hash && finish(`held ${info.reason}`)
    const onCandidate = (b: Block) => b.block_header.hash === hash && finish('taken')
    const timer = setTimeout(() => finish(undefined), timeoutMs)
    gossip.on('dropped', onDropped).on('ignored', onIgnored).on('held', onHeld)
    gossip.on('candidate', onCandidate)
  })
}

/** Whether the node still answers on this connection: a SHAKEHAND gets its answer. */
export async function stillAnswers(ctx: HostileContext, peer: RawPeer): Promise<boolean> {
  peer.send({ code: 'SHAKEHAND', data: ctx.status(peer.claimed ? { address: peer.claimed } : {}) })
  return (await peer.next('SHAKEHAND')) !== undefined
}

/** Sends `block` and reports what gossip did with it, then checks the connection still works. */
async function sendAndObserve(ctx: HostileContext, peer: RawPeer, block: Block): Promise<string> {
  const outcome = blockOutcome(ctx, block.block_header.hash)
  peer.send({ code: 'NEW_BLOCK', data: block })
  const observed = await outcome
  const alive = await stillAnswers(ctx, peer)
  peer.close()
  if (!observed) return alive ? 'no outcome, open' : 'closed'
  return `${observed}${alive ? '' : ' (closed)'}`
}

/** A case that sends `payload` (after a SHAKEHAND exchange when `handshake`) and expects a close. */
const closesOn =
  (handshake: boolean) =>
  (name: string, expected: string, payload: (ctx: HostileContext) => Buffer): HostileCase => ({
    name,
    expected,
    async run(ctx) {
      const peer = await ctx.open({ handshake })
      peer.write(payload(ctx))
      return closeOutcome(ctx, peer)
    },
  })

const afterHandshake = closesOn(true)
const beforeHandshake = closesOn(false)

/** A well-formed block on the node's head, in the current round (or shifted by `rounds`). */
export function blockOnHead(
  ctx: HostileContext,
  options: { rounds?: number; tag?: string; timestamp?: number } = {},
) {
  const head = ctx.node.store.head()
  const roundMs = ctx.node.store.params.roundMs
  return createBlock({
    height: head.block_header.height + 1,
    prevHash: head.block_header.hash,
    timestamp: options.timestamp ?? Date.now() + (options.rounds ?? 0) * roundMs,
    producer: `hostile-${options.tag ?? 'x'}`,
    transactions: [{ tag: options.tag ?? 'x', at: Date.now() }],
  })
}

// Random hashes from a pool: one randomBytes call per hash made the attacker's own syscalls
// the largest cost of a 200,000-hash flood.
let pool = Buffer.alloc(0)
let poolAt = 0
export const randomHash = () => {
  if (poolAt + 32 > pool.length) {
    pool = randomBytes(32 * 4096)
    poolAt = 0
  }
  poolAt += 32
  return pool.toString('hex', poolAt - 32, poolAt)
}

/** A well-formed block `ahead` heights above the head, on a parent nobody has. */
function orphan(ctx: HostileContext, ahead: number, tag: string, timestamp = Date.now()) {
  return createBlock({
    height: ctx.node.store.height() + ahead,
    prevHash: randomHash(),
    timestamp,
    producer: `hostile-${tag}`,
    transactions: [{ tag }],
  })
}

/** Sends one well-formed block the node must not take (not a protocol error) and stays open. */
const droppedBlock = (
  name: string,
  expected: string,
  make: (ctx: HostileContext) => Block,
): HostileCase => ({
  name,
  expected,
  async run(ctx) {
    const peer = await ctx.open({ handshake: true })
    return sendAndObserve(ctx, peer, make(ctx))
  },
})

/** Sends a NEW_BLOCK whose JSON is `mutate`d after hashing. */
const mutatedBlock = (
  name: string,
  expected: string,
  mutate: (block: Record<string, any>) => void,
) =>
  afterHandshake(name, expected, (ctx) => {
    const block = JSON.parse(JSON.stringify(blockOnHead(ctx, { tag: name }))) as Record<string, any>
    mutate(block)
    return jsonFrame({ code: 'NEW_BLOCK', data: block })
  })

const shakehandWith = (name: string, expected: string, overrides: Record<string, unknown>) =>
  beforeHandshake(name, expected, (ctx) =>
    jsonFrame({ code: 'SHAKEHAND', data: ctx.status(overrides) }),
  )

/** The node dials a hostile Server, which does what `script` says after the node's SHAKEHAND. */
const hostileServer = (
  name: string,
  expected: string,
  script: (ctx: HostileContext, server: RawPeer) => void | Promise<void>,
): HostileCase => ({
  name,
  expected,
  async run(ctx) {
    const server = await ctx.dialedBy()
    await script(ctx, server)
    return closeOutcome(ctx, server)
  },
})

const answerShakehand = (ctx: HostileContext, server: RawPeer, overrides = {}) =>
  server.send({ code: 'SHAKEHAND', data: ctx.status(overrides) })

/** A Server claiming a longer chain: it answers each PULL_BLOCK the node sends with `answer`. */
const longerChainServer = (
  name: string,
  expected: string,
  answer: (ctx: HostileContext, height: number) => Promise<unknown>,
) =>
  hostileServer(name, expected, async (ctx, server) => {
    answerShakehand(ctx, server, { height: ctx.node.store.height() + 10, head: randomHash() })
    for (let pull = await server.next('PULL_BLOCK'); pull; pull = await server.next('PULL_BLOCK'))
      server.send({ code: 'PUSH_BLOCK', data: await answer(ctx, pull.data as number) })
  })

/** The block the node holds at `height`, or a well-formed stand-in above its head. */
async function blockAt(ctx: HostileContext, height: number): Promise<Block> {
  const stored = await ctx.node.store.getByHeight(height)
  return stored ?? orphan(ctx, height - ctx.node.store.height(), `at-${height}`)
}

export const hostileCases: HostileCase[] = [
  // Framing
  beforeHandshake('declared length 4 GiB - 1', 'close FRAME_TOO_LARGE', () =>
    Buffer.from([0xff, 0xff, 0xff, 0xff]),
  ),
  beforeHandshake('declared length one over the limit', 'close FRAME_TOO_LARGE', (ctx) => {
    const header = Buffer.alloc(4)
    header.writeUInt32BE(ctx.maxBodyBytes + 1)
    return header
  }),
  beforeHandshake('zero length', 'close FRAME_EMPTY', () => Buffer.alloc(4)),
  beforeHandshake('invalid UTF-8 body', 'close INVALID_UTF8', () =>
    frameOf(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
  ),
  beforeHandshake('body is not JSON', 'close INVALID_JSON', () => frameOf('{"code": SHAKEHAND')),
  beforeHandshake('body is a JSON array', 'close NOT_AN_OBJECT', () => frameOf('[1,2,3]')),
  beforeHandshake('body is a JSON string', 'close NOT_AN_OBJECT', () => frameOf('"SHAKEHAND"')),
  beforeHandshake('body is null', 'close NOT_AN_OBJECT', () => frameOf('null')),
  beforeHandshake('unknown code', 'close UNKNOWN_CODE', () =>
    jsonFrame({ code: 'HELLO', data: 1 }),
  ),
  beforeHandshake('code in lower case', 'close UNKNOWN_CODE', (ctx) =>
    jsonFrame({ code: 'shakehand', data: ctx.status() }),
  ),
  beforeHandshake('no code', 'close UNKNOWN_CODE', () => jsonFrame({ data: 1 })),
  beforeHandshake('BOM before the JSON', 'close INVALID_JSON', (ctx) =>
    frameOf(`\uFEFF${JSON.stringify({ code: 'SHAKEHAND', data: ctx.status() })}`),
  ),
  // Handshake
  shakehandWith('SHAKEHAND with height -1', 'close INVALID_DATA', { height: -1 }),
  shakehandWith('SHAKEHAND with height 1.5', 'close INVALID_DATA', { height: 1.5 }),
  shakehandWith('SHAKEHAND with height "1"', 'close INVALID_DATA', { height: '1' }),
  shakehandWith('SHAKEHAND with height 1e300', 'close INVALID_DATA', { height: 1e300 }),
  shakehandWith('SHAKEHAND without address', 'close INVALID_DATA', { address: undefined }),
  shakehandWith('SHAKEHAND with a 300-character address', 'close INVALID_DATA', {
    address: `${'h'.repeat(295)}:1234`,
  }),
  shakehandWith('SHAKEHAND with a head that is not hex', 'close INVALID_DATA', {
    head: 'z'.repeat(64),
  }),
  shakehandWith('SHAKEHAND naming another genesis', 'close GENESIS_MISMATCH', {
    genesis: createGenesis({ network: 'elsewhere', roundMs: 1000, timestamp: 1 }).block_header.hash,
  }),
  beforeHandshake('SHAKEHAND without data', 'close INVALID_DATA', () =>
    jsonFrame({ code: 'SHAKEHAND' }),
  ),
  // Order and roles
  beforeHandshake('PULL_BLOCK before SHAKEHAND', 'close REQUEST_BEFORE_SHAKEHAND', () =>
    jsonFrame({ code: 'PULL_BLOCK', data: 0 }),
  ),
  beforeHandshake('NEW_BLOCK_HASH before SHAKEHAND', 'close REQUEST_BEFORE_SHAKEHAND', () =>
    jsonFrame({ code: 'NEW_BLOCK_HASH', data: randomHash() }),
  ),
  beforeHandshake('NEW_BLOCK before SHAKEHAND', 'close REQUEST_BEFORE_SHAKEHAND', (ctx) =>
    jsonFrame({ code: 'NEW_BLOCK', data: blockOnHead(ctx) }),
  ),
  afterHandshake('PUSH_BLOCK from a Client', 'close WRONG_ROLE', () =>
    jsonFrame({ code: 'PUSH_BLOCK', data: null }),
  ),
  afterHandshake('GET_BLOCK from a Client', 'close WRONG_ROLE', () =>
    jsonFrame({ code: 'GET_BLOCK', data: randomHash() }),
  ),
  afterHandshake('BLOCK_KNOWN from a Client', 'close WRONG_ROLE', () =>
    jsonFrame({ code: 'BLOCK_KNOWN', data: randomHash() }),
  ),
  afterHandshake('PULL_BLOCK of "abc"', 'close INVALID_DATA', () =>
    jsonFrame({ code: 'PULL_BLOCK', data: 'abc' }),
  ),
  afterHandshake('NEW_BLOCK_HASH in upper case', 'close INVALID_DATA', () =>
    jsonFrame({ code: 'NEW_BLOCK_HASH', data: randomHash().toUpperCase().replace(/^./, 'A') }),
  ),
  // Malformed blocks
  mutatedBlock('block whose hash does not recompute', 'close MALFORMED_BLOCK', (b) => {
    b.block_header.hash = randomHash()
  }),
  mutatedBlock('block whose tx_root does not recompute', 'close MALFORMED_BLOCK', (b) => {
    b.block_header.tx_root = randomHash()
  }),
  mutatedBlock('block with a tampered transaction', 'close MALFORMED_BLOCK', (b) => {
    b.transactions[0].tag = 'tampered'
  }),
  mutatedBlock('block with a seventh header member', 'close INVALID_DATA', (b) => {
    b.block_header.extra = 1
  }),
  mutatedBlock('block without prev_hash', 'close INVALID_DATA', (b) => {
    delete b.block_header.prev_hash
  }),
  mutatedBlock('block with a negative height', 'close INVALID_DATA', (b) => {
    b.block_header.height = -1
  }),
  mutatedBlock('block with an empty producer', 'close INVALID_DATA', (b) => {
    b.block_header.producer = ''
  }),
  mutatedBlock('block whose transactions are not an array', 'close INVALID_DATA', (b) => {
    b.transactions = { a: 1 }
  }),
  mutatedBlock('block with a transaction that is a number', 'close INVALID_DATA', (b) => {
    b.transactions = [7]
  }),
  mutatedBlock('block without transactions', 'close INVALID_DATA', (b) => {
    delete b.transactions
  }),
  // Well-formed blocks the node must drop (no protocol error)
  droppedBlock('block one hour in the future', 'drop UNTIMELY', (ctx) =>
    blockOnHead(ctx, { timestamp: Date.now() + 3_600_000, tag: 'future' }),
  ),
  droppedBlock('block from an earlier round', 'drop LATE', (ctx) =>
    blockOnHead(ctx, { rounds: -1, tag: 'late' }),
  ),
  droppedBlock('block on a parent the node lacks (orphan)', 'held ORPHAN', (ctx) =>
    orphan(ctx, 5, 'orphan'),
  ),
  {
    name: 'orphan flood: 500 blocks on unknown parents',
    expected: 'open, all held within the bound, store unchanged',
    async run(ctx) {
      return withAttacker(async (host) => {
        const [ends] = await openFrom(host, ctx, 1)
        const height = ctx.node.store.height()
        // All 500 of one round, made before it and sent as it begins: stamped with the clock as
        // they were built, or built once it had begun, a round end while building or sending
        // made the last one LATE under load. Made again if making them outlasted their round.
        let hashes: string[] = []
        for (let attempt = 0, sent = false; attempt < 3 && !sent; attempt++) {
          const next = ctx.node.gossip.currentRound + 1
          hashes = await host.request('makeBlocks', {
            count: 500,
            height: height + 2,
            prevHash: 'random',
            timestamp: roundStart(next, ctx.node.store.params) + 1,
            tag: 'flood',
            order: 'made',
            seed: 500 + attempt,
          })
          sent = ctx.node.gossip.currentRound < next && (await nextRound(ctx.node)) === next
        }
        const last = blockOutcome(ctx, hashes.at(-1)!)
        await host.request('sendBlocks', { batch: 500 })
        const outcome = await last
        const [alive] = await host.request('stillAnswers', { timeoutMs: 30_000 })
        const info = alive ? undefined : await ctx.closeOf(ends!, 0)
        const bounded = ctx.node.gossip.heldOrphans <= 32
        return outcome === 'held ORPHAN' && alive && bounded && ctx.node.store.height() === height
          ? 'open, all held within the bound, store unchanged'
          : `${outcome}, alive=${alive}${info ? ` (close ${closeCode(info)})` : ''}, held=${ctx.node.gossip.heldOrphans}`
      })
    },
  },
  {
    name: 'announcement flood: 5,000 random hashes',
    expected: 'open, throttled to the budget, fetches bounded',
    async run(ctx) {
      return withAttacker(async (host) => {
        const [ends] = await openFrom(host, ctx, 1)
        const gossip = ctx.node.gossip
        const first = gossip.currentRound
        await host.request('announceFlood', { perConnection: 5000, batch: 2000, seed: 5 })
        // Past its budget (64 unknown hashes a round) the flooder's answers wait for the round's
        // end, so its connection is read at that pace: watch two round ends, not all 5,000.
        for (let i = 0; i < 2; i++)
          await new Promise<void>((resolve) => gossip.once('empty', () => resolve()))
        const rounds = gossip.currentRound - first + 1
        const report = await host.request('report', {})
        const { GET_BLOCK: wanted = 0, BLOCK_KNOWN: known = 0 } = receivedTotals(report)
        const answered = wanted + known
        const bounded = gossip.pendingFetches <= 1024
        const info = await ctx.closeOf(ends!, 0)
        const open = !report.connections[0]!.closed && !info
        return wanted <= 64 * rounds && answered < 5000 && open && bounded
          ? 'open, throttled to the budget, fetches bounded'
          : `open=${open}${info ? ` (close ${closeCode(info)})` : ''}, ${wanted} GET_BLOCK and ${answered} answers in ${rounds} rounds, fetches ${gossip.pendingFetches}`
      })
    },
  },
  {
    name: 'PULL_BLOCK flood: 20,000 pipelined requests',
    expected: 'open, answered in order',
    async run(ctx) {
      return withAttacker(async (host) => {
        const [ends] = await openFrom(host, ctx, 1)
        const count = 20_000
        await host.request('pullFlood', {
          perConnection: count,
          batch: 2000,
          from: 0,
          modulo: 25,
          stopReading: false,
        })
        // Its SHAKEHAND is answered after all 20,000 PUSH_BLOCKs (a session answers in order).
        const [alive] = await host.request('stillAnswers', { timeoutMs: 30_000 })
        const report = await host.request('report', {})
        const pushes = report.connections[0]!.pushHeights
        const height = ctx.node.store.height()
        const inOrder = pushes.every((pushed, i) =>
          pushed === null ? i % 25 > height : pushed === i % 25,
        )
        const info = alive ? undefined : await ctx.closeOf(ends!, 0)
        return `${alive ? 'open' : `closed${info ? ` ${closeCode(info)}` : ''}`}, ${pushes.length === count && inOrder ? 'answered in order' : `${pushes.length} answers`}`
      })
    },
  },
  {
    name: 'the same late block 200 times',
    expected: 'open, refused once then ignored 199 times, never taken',
    async run(ctx) {
      const peer = await ctx.open({ handshake: true })
      const block = blockOnHead(ctx, { rounds: -1, tag: 'repeat' })
      const hash = block.block_header.hash
      let refused = 0
      let ignored = 0
      let taken = 0
      const onDrop = (b: Block) => void (b.block_header.hash === hash && refused++)
      const onIgnored = (h: string, info: { reason: string }) => {
        if (h !== hash) return
        if (info.reason === 'REFUSED_BEFORE') ignored++
        else refused++
      }
      const onTake = (b: Block) => void (b.block_header.hash === hash && taken++)
      const gossip = ctx.node.gossip
      gossip.on('dropped', onDrop).on('ignored', onIgnored).on('candidate', onTake)
      for (let i = 0; i < 200; i++) peer.send({ code: 'NEW_BLOCK', data: block })
      const alive = await stillAnswers(ctx, peer)
      gossip.off('dropped', onDrop).off('ignored', onIgnored).off('candidate', onTake)
      peer.close()
      return `${alive ? 'open' : 'closed'}, ${refused === 1 && ignored === 199 ? 'refused once then ignored 199 times' : `refused ${refused}, ignored ${ignored}`}, ${taken ? `taken ${taken}` : 'never taken'}`
    },
  },
  // A hostile Server: the node dialed it
  hostileServer(
    'Server answers SHAKEHAND naming another genesis',
    'close GENESIS_MISMATCH',
    (ctx, server) =>
      answerShakehand(ctx, server, {
        genesis: createGenesis({ network: 'elsewhere', roundMs: 1000, timestamp: 1 }).block_header
          .hash,
      }),
  ),
  hostileServer('Server never answers SHAKEHAND', 'close HANDSHAKE_TIMEOUT', () => {}),
  hostileServer(
    'Server answers with a frame over the limit',
    'close FRAME_TOO_LARGE',
    (ctx, server) => {
      const header = Buffer.alloc(4)
      header.writeUInt32BE(ctx.maxBodyBytes + 1)
      server.write(header)
    },
  ),
  hostileServer(
    'GET_BLOCK flood from a Server: 1,000 unsolicited',
    'close UNEXPECTED_ANSWER',
    (ctx, server) => {
      answerShakehand(ctx, server)
      for (let i = 0; i < 1000; i++) server.send({ code: 'GET_BLOCK', data: randomHash() })
    },
  ),
  hostileServer(
    'BLOCK_KNOWN from a Server, unsolicited',
    'close UNEXPECTED_ANSWER',
    (ctx, server) => {
      answerShakehand(ctx, server)
      server.send({ code: 'BLOCK_KNOWN', data: randomHash() })
    },
  ),
  hostileServer('NEW_BLOCK from a Server', 'close WRONG_ROLE', (ctx, server) => {
    answerShakehand(ctx, server)
    server.send({ code: 'NEW_BLOCK', data: blockOnHead(ctx, { tag: 'server' }) })
  }),
  hostileServer('PULL_BLOCK from a Server', 'close WRONG_ROLE', (ctx, server) => {
    answerShakehand(ctx, server)
    server.send({ code: 'PULL_BLOCK', data: 1 })
  }),
  longerChainServer(
    'Server claims a longer chain, serves malformed blocks',
    'close MALFORMED_BLOCK',
    async (ctx, height) => {
      const block = JSON.parse(JSON.stringify(await blockAt(ctx, height))) as Block
      block.transactions.push({ tampered: true })
      return block
    },
  ),
  longerChainServer(
    'Server answers PULL_BLOCK with another height',
    'close UNEXPECTED_ANSWER',
    (ctx, height) => blockAt(ctx, height === 1 ? 2 : height - 1),
  ),
  hostileServer(
    'Server claims a longer chain, never answers PULL_BLOCK',
    'close REQUEST_TIMEOUT',
    (ctx, server) =>
      answerShakehand(ctx, server, { height: ctx.node.store.height() + 10, head: randomHash() }),
  ),
  // Stalls
  beforeHandshake('half a frame, then silence (slowloris)', 'close FRAME_TIMEOUT', () =>
    jsonFrame({
      code: 'SHAKEHAND',
      data: { timestamp: 1, height: 0, address: '127.0.0.1:1' },
    }).subarray(0, 20),
  ),
  beforeHandshake('a length prefix, then silence', 'close FRAME_TIMEOUT', () =>
    Buffer.from([0, 0, 1, 0]),
  ),
  {
    name: 'connect and never send SHAKEHAND',
    expected: 'close HANDSHAKE_TIMEOUT',
    async run(ctx) {
      return closeOutcome(ctx, await ctx.open())
    },
  },
  {
    name: 'a peer that never reads',
    expected: 'reading paused, memory bounded',
    async run(ctx) {
      return withAttacker(async (host) => {
        const [ends] = await openFrom(host, ctx, 1)
        const heapBefore = process.memoryUsage().heapUsed
        // Each answer is a full block; never read, they back up in the node's buffers.
        await host.request('pullFlood', {
          perConnection: 200_000,
          batch: 2000,
          from: 1,
          modulo: 20,
          stopReading: true,
        })
        const info = await ctx.closeOf(ends!, 3_000)
        const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20
        if (info) return `close ${closeCode(info)}`
        return grownMb < 100
          ? 'reading paused, memory bounded'
          : `heap grew ${grownMb.toFixed(0)} MB`
      })
    },
  },
  {
    name: '1,000 simultaneous connections from one host',
    expected: 'extras closed, node serves others',
    async run(ctx) {
      return withAttacker(async (host) => {
        // The crowd connects from its own process: 1,000 connects at once are the attacker's work.
        const { opened, refused } = await host.request('connectMany', {
          target: ctx.node.address,
          count: 1000,
        })
        // The transport's per-host cap refuses some; the rest wait for SHAKEHAND in a bounded
        // pool that closes the oldest to admit the newest. Either way few stay open: wait for
        // the closes themselves (each raw socket's close event), at most 5 s.
        const open = await host.request('crowdOpen', { atMost: 100, timeoutMs: 5_000 })
        const refusedOrEvicted = refused > 0 || open < opened
        const probe = await ctx.open({ handshake: true, local: '127.0.0.2' })
        const served = !probe.isClosed
        probe.close()
        const stillOpen = await host.request('crowdOpen', { atMost: 100, timeoutMs: 0 })
        return refusedOrEvicted && served && stillOpen <= 100
          ? 'extras closed, node serves others'
          : `closed=${refusedOrEvicted} served=${served} open=${stillOpen}`
      })
    },
  },
]
