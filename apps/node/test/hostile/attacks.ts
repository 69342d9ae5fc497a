// The named attacks an attacker host runs in its own process (attacker-host.ts), and the
// messages it trades with the test. A remote attacker has its own event loop, heap and GC:
// run in the node's thread, a flood of 200,000 sends competed with the node for one event
// loop and made the honest probe late for a reason no real network has.
import { type Block, createBlock } from '@chronos/codec'
import { jsonFrame, RawPeer } from './raw-peer.js'

/** The two ends of one attacker connection, as the attacker sees them (the node sees them swapped). */
export interface Ends {
  localAddress: string
  remoteAddress: string
}

/** A connection the host opened; `refused` when the node closed it instead of answering SHAKEHAND. */
export interface Opened extends Ends {
  refused?: true
}

export interface OpenParams {
  /** The node's listen address. */
  target: string
  /** Its genesis hash, for the Status. */
  genesis: string
  /** One Status address per connection (each unique, so one case's penalties never ban the next). */
  claims: string[]
  /** The loopback source address to dial from (127.0.0.x). */
  local?: string
  /** Exchange SHAKEHANDs first. */
  handshake: boolean
}

/** Per connection: how many NEW_BLOCK_HASHes of random hashes (from `seed`), written `batch` at a time. */
export interface AnnounceFloodParams {
  perConnection: number
  batch: number
  seed: number
}

/** Per connection: PULL_BLOCKs of heights `from + i % modulo`, optionally never reading the answers. */
export interface PullFloodParams {
  perConnection: number
  batch: number
  from: number
  modulo: number
  stopReading: boolean
}

/**
 * `count` well-formed blocks made in the host (hashing them is the attacker's work, not the
 * node's): each at `height`, on `prevHash` (or on a fresh random parent: an orphan), stamped
 * `timestamp` (or the clock when made), produced and tagged `${tag}-${i}`.
 */
export interface MakeBlocksParams {
  count: number
  height: number
  prevHash: string | 'random'
  timestamp?: number
  tag: string
  /** Send order: as made, or by descending hash (the worst case for a relay that keeps the lowest). */
  order: 'made' | 'descending-hash'
  seed: number
}

export interface Sent {
  messages: number
  bytes: number
}

export interface ConnectionReport extends Ends {
  /** Closed by the node (or its end reset) when the report was taken. */
  closed: boolean
  /** Messages received, by code. */
  received: Record<string, number>
  /** The heights of the PUSH_BLOCK answers in the order they came (null: the node has none). */
  pushHeights: (number | null)[]
}

export interface Report {
  connections: ConnectionReport[]
  /** CPU time (user + system, ms) the host has used since its first attack: its attacks, not its start-up. */
  cpuMs: number
}

/** What each operation takes and gives: one table, so the test side and the host agree on types. */
export interface Operations {
  open: { params: OpenParams; result: Opened[] }
  announceFlood: { params: AnnounceFloodParams; result: Sent }
  pullFlood: { params: PullFloodParams; result: Sent }
  /** Makes blocks and keeps them for `sendBlocks`; resolves with their hashes in send order. */
  makeBlocks: { params: MakeBlocksParams; result: string[] }
  /** Sends the blocks made, as NEW_BLOCKs, on every connection, `batch` per write. */
  sendBlocks: { params: { batch: number }; result: Sent }
  /** Opens `count` connections at once, no SHAKEHAND; tells how many the node took and refused. */
  connectMany: {
    params: { target: string; count: number; local?: string }
    result: { opened: number; refused: number }
  }
  /** Resolves once at most `atMost` of the `connectMany` connections are open, or after `timeoutMs`: how many are. */
  crowdOpen: { params: { atMost: number; timeoutMs: number }; result: number }
  /** Sends a SHAKEHAND on every open connection and tells, per connection, whether it is answered within `timeoutMs`. */
  stillAnswers: { params: { timeoutMs: number }; result: boolean[] }
  report: { params: Record<string, never>; result: Report }
  close: { params: Record<string, never>; result: null }
}

export type Operation = keyof Operations

export type Request = {
  [K in Operation]: { id: number; op: K; params: Operations[K]['params'] }
}[Operation]

export type Response =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string }
  | { ready: true }

/**
 * Random hashes from a seeded xorshift32, 4096 at a time: a run's flood can be replayed, and
 * making them costs no syscalls (one randomBytes call per hash was once the flood's largest cost).
 */
export function seededHashes(seed: number): () => string {
  let x = seed >>> 0 || 1
  const pool = Buffer.alloc(32 * 4096)
  let at = pool.length
  return () => {
    if (at === pool.length) {
      for (let i = 0; i < pool.length; i += 4) {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        pool.writeUInt32LE(x >>> 0, i)
      }
      at = 0
    }
    at += 32
    return pool.toString('hex', at - 32, at)
  }
}

/** Connections opened (and handshaken) at once by `open`. */
const OPEN_CONCURRENCY = 8

/** The connections of one host and the attacks it runs on them. */
export class AttackSession {
  private peers: { peer: RawPeer; claim: string }[] = []
  private genesis = ''
  private blocks: Block[] = []
  /** The `connectMany` connections (not part of the floods). */
  private crowd: RawPeer[] = []
  private cpuAtStart: NodeJS.CpuUsage | undefined

  async open(params: OpenParams): Promise<Opened[]> {
    this.genesis = params.genesis
    this.cpuAtStart ??= process.cpuUsage()
    const opened: Opened[] = []
    // A few at a time: a node keeps a bounded pool of connections that have not said SHAKEHAND
    // yet (maxUnidentified, 32 by default) and closes the oldest past it, PEER_LIMIT. Forty at
    // once against a busy node test that pool (another case's subject), not the flood.
    for (let at = 0; at < params.claims.length; at += OPEN_CONCURRENCY) {
      const wave = params.claims.slice(at, at + OPEN_CONCURRENCY)
      opened.push(...(await Promise.all(wave.map((claim) => this.openOne(params, claim)))))
    }
    return opened
  }

  private async openOne(params: OpenParams, claim: string): Promise<Opened> {
    const peer = await RawPeer.connect(params.target, params.local)
    peer.claimed = claim
    this.peers.push({ peer, claim })
    if (params.handshake) {
      peer.send({ code: 'SHAKEHAND', data: this.status(claim) })
      if (!(await peer.next('SHAKEHAND'))) return { ...ends(peer), refused: true }
    }
    return ends(peer)
  }

  announceFlood(params: AnnounceFloodParams): Promise<Sent> {
    const hash = seededHashes(params.seed)
    return this.flood(params.perConnection, params.batch, () => ({
      code: 'NEW_BLOCK_HASH',
      data: hash(),
    }))
  }

  pullFlood(params: PullFloodParams): Promise<Sent> {
    if (params.stopReading) for (const { peer } of this.peers) peer.stopReading()
    return this.flood(params.perConnection, params.batch, (i) => ({
      code: 'PULL_BLOCK',
      data: params.from + (i % params.modulo),
    }))
  }

  makeBlocks(params: MakeBlocksParams): string[] {
    this.cpuAtStart ??= process.cpuUsage()
    const random = seededHashes(params.seed)
    this.blocks = Array.from({ length: params.count }, (_, i) =>
      createBlock({
        height: params.height,
        prevHash: params.prevHash === 'random' ? random() : params.prevHash,
        timestamp: params.timestamp ?? Date.now(),
        producer: `hostile-${params.tag}-${i}`,
        transactions: [{ tag: `${params.tag}-${i}` }],
      }),
    )
    if (params.order === 'descending-hash')
      this.blocks.sort((a, b) => (a.block_header.hash < b.block_header.hash ? 1 : -1))
    return this.blocks.map((b) => b.block_header.hash)
  }

  sendBlocks({ batch }: { batch: number }): Promise<Sent> {
    const blocks = this.blocks
    return this.flood(blocks.length, batch, (i) => ({ code: 'NEW_BLOCK', data: blocks[i] }))
  }

  async connectMany(params: {
    target: string
    count: number
    local?: string
  }): Promise<{ opened: number; refused: number }> {
    this.cpuAtStart ??= process.cpuUsage()
    const tried = await Promise.allSettled(
      Array.from({ length: params.count }, () => RawPeer.connect(params.target, params.local)),
    )
    this.crowd = tried.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    return { opened: this.crowd.length, refused: tried.length - this.crowd.length }
  }

  /** Waits on the connections' own close events, never longer than `timeoutMs`. */
  async crowdOpen({ atMost, timeoutMs }: { atMost: number; timeoutMs: number }): Promise<number> {
    const open = () => this.crowd.filter((p) => !p.isClosed).length
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      const check = () => {
        if (open() > atMost) return
        clearTimeout(timer)
        resolve()
      }
      for (const peer of this.crowd) void peer.closed.then(check)
      check()
    })
    return open()
  }

  async stillAnswers({ timeoutMs }: { timeoutMs: number }): Promise<boolean[]> {
    return Promise.all(
      this.peers.map(async ({ peer, claim }) => {
        if (peer.isClosed) return false
        peer.send({ code: 'SHAKEHAND', data: this.status(claim) })
        return (await peer.next('SHAKEHAND', timeoutMs)) !== undefined
      }),
    )
  }

  report(): Report {
    const { user, system } = process.cpuUsage(this.cpuAtStart)
    return { connections: this.connections(), cpuMs: (user + system) / 1000 }
  }

  private connections(): ConnectionReport[] {
    return this.peers.map(({ peer }) => {
      const received: Record<string, number> = {}
      const pushHeights: (number | null)[] = []
      for (const m of peer.received) {
        received[m.code] = (received[m.code] ?? 0) + 1
        if (m.code === 'PUSH_BLOCK')
          pushHeights.push(
            (m.data as { block_header: { height: number } } | null)?.block_header.height ?? null,
          )
      }
      return { ...ends(peer), closed: peer.isClosed, received, pushHeights }
    })
  }

  close(): null {
    for (const { peer } of this.peers) peer.close()
    for (const peer of this.crowd) peer.close()
    this.peers = []
    this.crowd = []
    return null
  }

  private status(address: string) {
    return { timestamp: Date.now(), height: 0, address, genesis: this.genesis }
  }

  /**
   * Writes `count` messages on every connection, `batch` frames per write, yielding between
   * batches so that the connections' answers are read while the flood goes on.
   */
  private async flood(count: number, batch: number, make: (i: number) => unknown): Promise<Sent> {
    const sent: Sent = { messages: 0, bytes: 0 }
    await Promise.all(
      this.peers.map(async ({ peer }) => {
        for (let i = 0; i < count; ) {
          const frames: Buffer[] = []
          for (const end = Math.min(count, i + batch); i < end; i++) frames.push(jsonFrame(make(i)))
          const bytes = Buffer.concat(frames)
          peer.write(bytes)
          sent.messages += frames.length
          sent.bytes += bytes.length
          await new Promise((resolve) => setImmediate(resolve))
        }
      }),
    )
    return sent
  }
}

const ends = (peer: RawPeer): Ends => ({
  localAddress: peer.localAddress,
  remoteAddress: peer.remoteAddress,
})
