// The named attacks an attacker host runs in its own process (attacker-host.ts), and the
// messages it trades with the test. A remote attacker has its own event loop, heap and GC:
// run in the node's thread, a flood of 200,000 sends competed with the node for one event
// loop and made the honest probe late for a reason no real network has.
import { jsonFrame, RawPeer } from './raw-peer.js'

/** The two ends of one attacker connection, as the attacker sees them (the node sees them swapped). */
export interface Ends {
  localAddress: string
  remoteAddress: string
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
  /** CPU time (user + system, ms) the host has used since its first connection: its attacks, not its start-up. */
  cpuMs: number
}

/** What each operation takes and gives: one table, so the test side and the host agree on types. */
export interface Operations {
  open: { params: OpenParams; result: Ends[] }
  announceFlood: { params: AnnounceFloodParams; result: Sent }
  pullFlood: { params: PullFloodParams; result: Sent }
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

/** The connections of one host and the attacks it runs on them. */
export class AttackSession {
  private peers: { peer: RawPeer; claim: string }[] = []
  private genesis = ''
  private cpuAtOpen: NodeJS.CpuUsage | undefined

  async open(params: OpenParams): Promise<Ends[]> {
    this.genesis = params.genesis
    this.cpuAtOpen ??= process.cpuUsage()
    const opened = await Promise.all(
      params.claims.map(async (claim) => {
        const peer = await RawPeer.connect(params.target, params.local)
        peer.claimed = claim
        if (params.handshake) {
          peer.send({ code: 'SHAKEHAND', data: this.status(claim) })
          if (!(await peer.next('SHAKEHAND'))) throw new Error(`handshake refused for ${claim}`)
        }
        return { peer, claim }
      }),
    )
    this.peers.push(...opened)
    return opened.map(({ peer }) => ends(peer))
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
    const { user, system } = process.cpuUsage(this.cpuAtOpen)
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
    this.peers = []
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
