import { EventEmitter } from 'node:events'
import type { Logger } from '@chronos/codec'
import type { WebSocket } from 'ws'

/** Every bound on what browsers can make the bridge hold or do. */
export interface ClientLimits {
  /** Past this many buffered bytes a browser misses deltas and is owed a snapshot. Default 1 MiB. */
  softBufferBytes: number
  /** Past this a browser is dropped (`SLOW`). Default 8 MiB. */
  hardBufferBytes: number
  /** Bytes buffered across all browsers; past it the fullest is dropped (`TOTAL`). Default 64 MiB. */
  totalBufferBytes: number
  /** At most one snapshot per browser per this many ms; more subscribes coalesce. Default 1 s. */
  snapshotIntervalMs: number
  /** A browser owed a snapshot that has not drained after this is dropped (`BEHIND`). Default 30 s. */
  maxBehindMs: number
  /** Messages a browser may send per second (burst of the same size); more closes it (`FLOOD`). Default 20. */
  maxMessagesPerSecond: number
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  softBufferBytes: 1024 * 1024,
  hardBufferBytes: 8 * 1024 * 1024,
  totalBufferBytes: 64 * 1024 * 1024,
  snapshotIntervalMs: 1000,
  maxBehindMs: 30_000,
  maxMessagesPerSecond: 20,
}

export type DropReason = 'SLOW' | 'TOTAL' | 'BEHIND' | 'FLOOD'

/**
 * A browser's place in the stream. `owed` covers both a fresh subscribe and
 * a browser that fell behind: either way the next thing it gets is a whole
 * snapshot, once its buffer has drained and its snapshot rate allows.
 */
type ClientState = { kind: 'idle' } | { kind: 'live' } | { kind: 'owed'; since: number }

interface Client {
  ws: WebSocket
  state: ClientState
  lastSnapshotAt: number
  tokens: number
  tokensAt: number
}

export interface ClientStats {
  clients: number
  live: number
  owed: number
  bufferedBytes: number
  snapshotsSent: number
  deltasSent: number
  dropped: Record<DropReason, number>
}

/**
 * The browsers of one bridge and the flow control between the view's
 * updates and their sockets. Nothing a browser does (not reading,
 * subscribing in a loop, pinging) can make the bridge buffer more than
 * `hardBufferBytes` for it or `totalBufferBytes` for all, or serialize more
 * than one snapshot per `snapshotIntervalMs` for it.
 */
export interface ClientHubEvents {
  /** A browser message was taken in (before it is parsed). */
  message: []
  snapshot: []
  dropped: [reason: DropReason]
}

export class ClientHub extends EventEmitter<ClientHubEvents> {
  private readonly clients = new Set<Client>()
  private readonly counters = {
    snapshotsSent: 0,
    deltasSent: 0,
    dropped: { SLOW: 0, TOTAL: 0, BEHIND: 0, FLOOD: 0 } as Record<DropReason, number>,
  }

  constructor(
    private readonly limits: ClientLimits,
    /** The current snapshot as one envelope text (the caller caches it). */
    private readonly snapshotText: () => string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    super()
  }

  get size(): number {
    return this.clients.size
  }

  add(ws: WebSocket): Client {
    const client: Client = {
      ws,
      state: { kind: 'idle' },
      lastSnapshotAt: -Infinity,
      tokens: this.limits.maxMessagesPerSecond,
      tokensAt: this.now(),
    }
    this.clients.add(client)
    const forget = () => this.clients.delete(client)
    ws.on('close', forget)
    ws.on('error', forget)
    return client
  }

  /** Counts one message from the browser; false (and the browser closed) when it floods. */
  admit(client: Client): boolean {
    // Messages already read from a browser we dropped are ignored.
    if (!this.clients.has(client)) return false
    const now = this.now()
    const rate = this.limits.maxMessagesPerSecond
    client.tokens = Math.min(rate, client.tokens + ((now - client.tokensAt) / 1000) * rate)
    client.tokensAt = now
    if (client.tokens < 1) {
      this.drop(client, 'FLOOD')
      return false
    }
    client.tokens--
    this.emit('message')
    return true
  }

  subscribe(client: Client): void {
    if (client.state.kind !== 'owed') client.state = { kind: 'owed', since: this.now() }
    this.serve(client)
  }

  /** A small reply (pong): sent only while the browser reads. */
  reply(client: Client, text: string): void {
    if (this.buffered(client) < this.limits.softBufferBytes) client.ws.send(text)
  }

  /** One delta, built once, to every live browser that keeps up. */
  broadcast(text: string): void {
    for (const client of this.clients) {
      if (!this.withinCap(client) || client.state.kind !== 'live') continue
      if (this.buffered(client) > this.limits.softBufferBytes) {
        client.state = { kind: 'owed', since: this.now() }
        continue
      }
      client.ws.send(text)
      this.counters.deltasSent++
    }
  }

  /** Periodic work: owed snapshots, the global budget, browsers that never drain. */
  tick(): void {
    let total = 0
    for (const client of this.clients) {
      if (!this.withinCap(client)) continue
      const state = client.state
      if (state.kind === 'owed' && this.now() - state.since > this.limits.maxBehindMs) {
        this.drop(client, 'BEHIND')
        continue
      }
      if (state.kind === 'owed') this.serve(client)
      total += this.buffered(client)
    }
    while (total > this.limits.totalBufferBytes) {
      let fullest: Client | undefined
      for (const client of this.clients)
        if (!fullest || this.buffered(client) > this.buffered(fullest)) fullest = client
      if (!fullest) break
      total -= this.buffered(fullest)
      this.drop(fullest, 'TOTAL')
    }
  }

  stats(): ClientStats {
    let live = 0
    let owed = 0
    let bufferedBytes = 0
    for (const client of this.clients) {
      if (client.state.kind === 'live') live++
      if (client.state.kind === 'owed') owed++
      bufferedBytes += this.buffered(client)
    }
    return {
      clients: this.clients.size,
      live,
      owed,
      bufferedBytes,
      snapshotsSent: this.counters.snapshotsSent,
      deltasSent: this.counters.deltasSent,
      dropped: { ...this.counters.dropped },
    }
  }

  closeAll(): void {
    for (const client of this.clients) client.ws.terminate()
    this.clients.clear()
  }

  /** Sends the owed snapshot if the browser has drained and its rate allows. */
  private serve(client: Client): void {
    if (client.state.kind !== 'owed') return
    const now = this.now()
    if (now - client.lastSnapshotAt < this.limits.snapshotIntervalMs) return
    if (this.buffered(client) > this.limits.softBufferBytes / 2) return
    const text = this.snapshotText()
    client.ws.send(text)
    client.lastSnapshotAt = now
    client.state = { kind: 'live' }
    this.counters.snapshotsSent++
    this.emit('snapshot')
  }

  private buffered(client: Client): number {
    return client.ws.bufferedAmount
  }

  /** Drops a browser past the per-browser hard cap; true when it is still connected. */
  private withinCap(client: Client): boolean {
    if (!this.clients.has(client)) return false
    if (this.buffered(client) <= this.limits.hardBufferBytes) return true
    this.drop(client, 'SLOW')
    return false
  }

  private drop(client: Client, reason: DropReason): void {
    this.counters.dropped[reason]++
    this.logger.warn({ reason, buffered: this.buffered(client) }, 'browser dropped')
    this.clients.delete(client)
    // A browser that floods can still read its close frame; one that does not read cannot.
    if (reason === 'FLOOD') client.ws.close(1008, 'too many messages')
    else client.ws.terminate()
    this.emit('dropped', reason)
  }
}
