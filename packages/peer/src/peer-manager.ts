import { EventEmitter, setMaxListeners } from 'node:events'
import { type Hash, type Logger, type Status, silentLogger } from '@chronos/codec'
import type { CloseInfo, Connection, Listener, Transport } from '@chronos/transport'
import { ClientSession } from './client-session.js'
import { PENALISED_REASONS, PEER_CLOSE_REASONS as R } from './errors.js'
import { Peer } from './peer.js'
import { type ServerHandlers, ServerSession } from './server-session.js'
import {
  DEFAULT_SESSION_LIMITS,
  type SessionContext,
  type SessionLimits,
} from './session-context.js'

export interface PeerLimits extends SessionLimits {
  /** Peers we dial, configured ones included. Default 16. */
  maxOutbound: number
  /** Peers that dial us (counted once they have sent SHAKEHAND). Default 64. */
  maxInbound: number
  /**
   * Inbound connections still waiting for their SHAKEHAND. When full, the
   * oldest is closed to make room, so a flood of silent connections cannot
   * lock honest peers out. Default 32.
   */
  maxUnidentified: number
  /** Hashes remembered per peer. Default 1024. */
  knownSetSize: number
  /** The status beat. Default 2 s (the spec allows at most 5 s). */
  statusIntervalMs: number
  /** First reconnect delay; doubles per failure up to `reconnectMaxMs`. Default 500 ms. */
  reconnectMinMs: number
  /** Default 30 s. */
  reconnectMaxMs: number
  /** Penalties (protocol errors, invalid blocks) before an address is refused. Default 3. */
  banThreshold: number
  /** How long a banned address is refused. Default 60 s. */
  banMs: number
}

export const DEFAULT_PEER_LIMITS: PeerLimits = {
  ...DEFAULT_SESSION_LIMITS,
  maxOutbound: 16,
  maxInbound: 64,
  maxUnidentified: 32,
  knownSetSize: 1024,
  statusIntervalMs: 2_000,
  reconnectMinMs: 500,
  reconnectMaxMs: 30_000,
  banThreshold: 3,
  banMs: 60_000,
}

/** The chain facts that go into our Status; the manager adds `timestamp` and `address`. */
export interface LocalChainStatus {
  height: number
  /** Omitted by an observer without a chain. */
  head?: Hash
  /** Omitted by an observer: it then accepts peers of any network. */
  genesis?: Hash
}

export interface PeerManagerOptions {
  transport: Transport
  /** Where to accept connections (`host:port`, port 0 picks one). Omit to only dial. */
  listen?: string
  /** The address put in our Status. Default: the bound listen address. */
  advertise?: string
  /** Peers to stay connected to, redialled with backoff for as long as we run. */
  peers?: readonly string[]
  chain: () => LocalChainStatus
  handlers: ServerHandlers
  limits?: Partial<PeerLimits>
  logger?: Logger
}

export interface PeerManagerEvents {
  /** Our outbound session to the peer finished its handshake. */
  ready: [peer: Peer]
  /** A Status arrived from the peer, on either connection. */
  status: [peer: Peer, status: Status]
  /** One of the peer's connections closed. */
  disconnect: [peer: Peer, info: CloseInfo]
  /** A misbehaviour was counted against an address; `banned` when it reached the threshold. */
  penalty: [address: string, reason: string, banned: boolean]
}

interface DialState {
  attempts: number
  timer: NodeJS.Timeout | undefined
  inFlight: boolean
}

/**
 * Owns every connection of a node: listens, dials configured peers and the
 * addresses inbound peers advertise, identifies peers by Status address,
 * caps their number, redials with backoff, runs the status beat, and
 * refuses addresses that keep breaking the protocol.
 */
export class PeerManager extends EventEmitter<PeerManagerEvents> {
  readonly limits: PeerLimits
  private readonly logger: Logger
  private readonly peersByAddress = new Map<string, Peer>()
  private readonly dials = new Map<string, DialState>()
  private readonly configured: Set<string>
  /** Addresses that turned out to be ourselves. */
  private readonly selfAddresses = new Set<string>()
  private readonly strikes = new Map<string, { count: number; bannedUntil: number }>()
  private readonly unidentified = new Set<ServerSession>()
  private readonly abort = new AbortController()
  private listener: Listener | undefined
  private beat: NodeJS.Timeout | undefined
  private advertised: string | undefined
  private readonly context: SessionContext

  constructor(private readonly options: PeerManagerOptions) {
    super()
    this.limits = { ...DEFAULT_PEER_LIMITS, ...options.limits }
    this.logger = options.logger ?? silentLogger
    this.configured = new Set(options.peers ?? [])
    // Every dial in flight listens for the abort; there are at most this many (see outboundCount).
    setMaxListeners(this.configured.size + this.limits.maxOutbound + 1, this.abort.signal)
    this.advertised = options.advertise
    this.context = {
      genesisHash: options.chain().genesis,
      logger: this.logger,
      limits: this.limits,
      localStatus: (opening) => {
        const { genesis, ...chain } = options.chain()
        const named = opening && genesis !== undefined ? { genesis } : {}
        return { ...chain, ...named, timestamp: Date.now(), address: this.address }
      },
    }
  }

  /** The address in our Status. */
  get address(): string {
    return this.advertised ?? this.listener?.address ?? '0.0.0.0:0'
  }

  async start(): Promise<void> {
    if (this.options.listen) {
      this.listener = await this.options.transport.listen(this.options.listen, (connection) =>
        this.accept(connection),
      )
      this.advertised ??= this.listener.address
    }
    this.beat = setInterval(() => this.beatAll(), this.limits.statusIntervalMs)
    this.beat.unref?.()
    for (const address of this.configured) this.connect(address)
  }

  /** Closes every connection and stops dialing. */
  async stop(): Promise<void> {
    this.abort.abort()
    clearInterval(this.beat)
    for (const dial of this.dials.values()) clearTimeout(dial.timer)
    this.dials.clear()
    const closing: Promise<unknown>[] = []
    for (const peer of this.peersByAddress.values()) {
      for (const session of [peer.outbound, ...peer.inbound]) {
        if (!session) continue
        session.close(R.SHUTDOWN)
        closing.push(session.connection.closed)
      }
    }
    for (const session of this.unidentified) {
      session.close(R.SHUTDOWN)
      closing.push(session.connection.closed)
    }
    await this.listener?.close()
    await Promise.all(closing)
  }

  /** Every peer with at least one connection. */
  peers(): Peer[] {
    return [...this.peersByAddress.values()]
  }

  /** Peers we can send to: our outbound session to them is ready. */
  readyPeers(): Peer[] {
    return this.peers().filter((peer) => peer.ready)
  }

  get(address: string): Peer | undefined {
    return this.peersByAddress.get(address)
  }

  /** Sends a SHAKEHAND now to every ready peer (or those `which` picks), e.g. after our head moved. */
  beatAll(which: (peer: Peer) => boolean = () => true): void {
    for (const peer of this.peersByAddress.values())
      if (peer.ready && which(peer)) peer.outbound!.beat()
  }

  /** Dials `address` unless we are connected, dialing, capped, or it is banned or ourselves. */
  connect(address: string): void {
    if (this.abort.signal.aborted || address === this.address || this.selfAddresses.has(address))
      return
    if (this.peersByAddress.get(address)?.outbound) return
    const dial = this.dials.get(address) ?? { attempts: 0, timer: undefined, inFlight: false }
    if (dial.inFlight || dial.timer) return
    if (!this.configured.has(address) && this.outboundCount() >= this.limits.maxOutbound) return
    const banned = this.bannedFor(address)
    this.dials.set(address, dial)
    if (banned > 0) {
      dial.timer = setTimeout(() => {
        dial.timer = undefined
        this.connect(address)
      }, banned)
      return
    }
    dial.inFlight = true
    this.options.transport.dial(address, { signal: this.abort.signal }).then(
      (connection) => this.dialed(address, connection, dial),
      (error: Error) => {
        dial.inFlight = false
        this.logger.debug({ peer: address, err: error.message }, 'dial failed')
        this.retry(address, dial)
      },
    )
  }

  /**
   * Counts a misbehaviour against `address`; at the threshold the address
   * is refused for `banMs` and its connections close with BANNED.
   */
  penalise(address: string, reason: string): void {
    const now = Date.now()
    const record = this.strikes.get(address) ?? { count: 0, bannedUntil: 0 }
    if (record.bannedUntil && record.bannedUntil <= now) record.count = 0
    record.count++
    this.strikes.set(address, record)
    this.logger.warn({ peer: address, reason, strikes: record.count }, 'peer penalised')
    const banned = record.count >= this.limits.banThreshold
    this.emit('penalty', address, reason, banned)
    if (!banned) return
    record.bannedUntil = now + this.limits.banMs
    this.logger.warn({ peer: address, reason: R.BANNED, ms: this.limits.banMs }, 'peer banned')
    const peer = this.peersByAddress.get(address)
    if (!peer) return
    peer.outbound?.close(R.BANNED)
    for (const session of peer.inbound) session.close(R.BANNED)
  }

  /** Milliseconds left on a ban of `address`, 0 when not banned. */
  bannedFor(address: string): number {
    const until = this.strikes.get(address)?.bannedUntil ?? 0
    return Math.max(0, until - Date.now())
  }

  private outboundCount(): number {
    let count = 0
    for (const peer of this.peersByAddress.values()) if (peer.outbound) count++
    for (const dial of this.dials.values()) if (dial.inFlight) count++
    return count
  }

  /** Inbound connections from identified peers. */
  private inboundCount(): number {
    let count = 0
    for (const peer of this.peersByAddress.values()) count += peer.inbound.size
    return count
  }

  private async dialed(dialedAddress: string, connection: Connection, dial: DialState) {
    const session = new ClientSession(connection, this.context)
    const closing = connection.closed.then((info) =>
      this.logClose(session.remoteStatus?.address ?? dialedAddress, connection, info),
    )
    let status: Status
    try {
      status = await session.handshake()
    } catch {
      dial.inFlight = false
      await closing
      this.retry(dialedAddress, dial)
      return
    }
    dial.inFlight = false
    const address = status.address
    if (address === this.address) {
      this.selfAddresses.add(dialedAddress)
      session.close(R.SELF_CONNECTION)
      this.dials.delete(dialedAddress)
      return
    }
    const peer = this.peerFor(address)
    if (peer.outbound?.open) {
      session.close(R.DUPLICATE_CONNECTION)
      this.dials.delete(dialedAddress)
      return
    }
    if (this.bannedFor(address) > 0) {
      session.close(R.BANNED)
      this.retry(dialedAddress, dial)
      return
    }
    dial.attempts = 0
    peer.outbound = session
    this.noteStatus(peer, status)
    session.on('status', (next) => this.noteStatus(peer, next))
    session.on('close', (info) => {
      if (peer.outbound === session) peer.outbound = undefined
      this.afterClose(peer, info)
      if (this.wanted(dialedAddress, peer)) this.retry(dialedAddress, dial)
      else this.dials.delete(dialedAddress)
    })
    this.emit('ready', peer)
  }

  private retry(address: string, dial: DialState): void {
    if (this.abort.signal.aborted || dial.timer) return
    const peer = this.peersByAddress.get(address)
    if (!this.wanted(address, peer)) {
      this.dials.delete(address)
      return
    }
    const { reconnectMinMs, reconnectMaxMs } = this.limits
    const base = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** dial.attempts++)
    const delay = Math.max(base * (0.5 + Math.random() / 2), this.bannedFor(address))
    dial.timer = setTimeout(() => {
      dial.timer = undefined
      this.connect(address)
    }, delay)
    dial.timer.unref?.()
  }

  /** Configured peers always; others while they keep an inbound connection to us. */
  private wanted(address: string, peer: Peer | undefined): boolean {
    return this.configured.has(address) || (peer !== undefined && peer.inbound.size > 0)
  }

  private accept(connection: Connection): void {
    if (this.unidentified.size >= this.limits.maxUnidentified) {
      const oldest = this.unidentified.values().next().value as ServerSession
      this.unidentified.delete(oldest)
      oldest.close(R.PEER_LIMIT)
    }
    const session = new ServerSession(connection, this.context, this.options.handlers)
    this.unidentified.add(session)
    session.once('close', (info) => {
      this.unidentified.delete(session)
      this.logClose(session.peerAddress, connection, info)
    })
    session.once('status', (status) => this.identify(session, status))
  }

  private identify(session: ServerSession, status: Status): void {
    this.unidentified.delete(session)
    const address = status.address
    if (address === this.address) {
      session.close(R.SELF_CONNECTION)
      return
    }
    if (this.bannedFor(address) > 0) {
      session.close(R.BANNED)
      return
    }
    const known = this.peersByAddress.get(address)
    if (!known?.inbound.size && this.inboundCount() >= this.limits.maxInbound) {
      this.logger.warn({ peer: address, reason: R.PEER_LIMIT }, 'inbound peer refused')
      session.close(R.PEER_LIMIT)
      return
    }
    const peer = this.peerFor(address)
    // A node holds one connection to us; a second one means it restarted and the old one is stale.
    for (const older of peer.inbound) older.close(R.DUPLICATE_CONNECTION)
    peer.inbound.add(session)
    this.noteStatus(peer, status)
    session.on('status', (next) => this.noteStatus(peer, next))
    session.once('close', (info) => {
      peer.inbound.delete(session)
      this.afterClose(peer, info)
    })
    // Dial back the address it advertised: gossip travels only on our own outbound connections.
    if (!peer.outbound) this.connect(address)
  }

  private peerFor(address: string): Peer {
    let peer = this.peersByAddress.get(address)
    if (!peer) {
      peer = new Peer(address, this.limits.knownSetSize)
      this.peersByAddress.set(address, peer)
    }
    return peer
  }

  private noteStatus(peer: Peer, status: Status): void {
    peer.status = status
    this.emit('status', peer, status)
  }

  private afterClose(peer: Peer, info: CloseInfo): void {
    if (info.initiator === 'local' && PENALISED_REASONS.has(info.reason))
      this.penalise(peer.address, info.reason)
    if (!peer.connected) this.peersByAddress.delete(peer.address)
    this.emit('disconnect', peer, info)
  }

  private logClose(peer: string | undefined, connection: Connection, info: CloseInfo) {
    const fields = {
      peer,
      remote: connection.remoteAddress,
      direction: connection.direction,
      reason: info.reason,
      initiator: info.initiator,
      code: (info.error as { code?: unknown } | undefined)?.code,
      problem: info.error?.message,
    }
    if (info.initiator === 'local' && PENALISED_REASONS.has(info.reason))
      this.logger.warn(fields, 'peer connection closed: protocol error')
    else if (info.reason === R.GENESIS_MISMATCH || info.reason === R.BANNED)
      this.logger.warn(fields, 'peer connection closed')
    else this.logger.info(fields, 'peer connection closed')
  }
}
