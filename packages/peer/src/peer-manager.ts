import { EventEmitter, setMaxListeners } from 'node:events'
import {
  FEATURE_PEERS,
  type Hash,
  type Logger,
  MAX_PEER_ENTRIES,
  type NetworkParams,
  type NodeKey,
  type PeerEntry,
  parseAddress,
  type Service,
  type Status,
  silentLogger,
} from '@chronos/codec'
import type { CloseInfo, Connection, Listener, Transport } from '@chronos/transport'
import type { AddressBook } from './address-book.js'
import { ClientSession } from './client-session.js'
import { type DialEvent, type DialState, IDLE, nextDialState } from './dialing.js'
import { PENALISED_REASONS, PEER_CLOSE_REASONS as R } from './errors.js'
import { Peer } from './peer.js'
import { DEFAULT_PENALTY_LIMITS, PenaltyBox, type PenaltyLimits } from './penalty-box.js'
import { type ServerHandlers, ServerSession } from './server-session.js'
import {
  type BlockCheckCache,
  DEFAULT_SESSION_LIMITS,
  type SessionContext,
  type SessionLimits,
} from './session-context.js'

export interface PeerLimits extends SessionLimits, PenaltyLimits {
  /** Peers we dial, configured ones included. Default 16. */
  maxOutbound: number
  /** Peers that dial us (counted once they have completed the handshake). Default 64. */
  maxInbound: number
  /**
   * Inbound connections still in their handshake. When full, the oldest is
   * closed to make room, so a flood of silent connections cannot lock
   * honest peers out. Default 32.
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
  /**
   * An outbound peer we dialed back (not configured) that gave us no new
   * block for this long may lose its slot to a newcomer when all slots are
   * taken (eviction by merit, as Bitcoin Core protects peers that deliver).
   * Default 5 minutes.
   */
  meritWindowMs: number
  /** A new outbound peer is never evicted before it had this long to prove useful. Default 30 s. */
  evictionGraceMs: number
  /** Addresses remembered as our own (dialing them reached us). Default 64. */
  maxSelfAddresses: number
  /**
   * Outbound connections to one host (IP) that we did not configure: the
   * addresses we dial back and from the book are peers' claims, and one host
   * must not take every slot (section 11 caps per IP). Default 8.
   */
  maxOutboundPerHost: number
  /** Outbound connections we keep by dialing from the address book (section 13). Default 8. */
  targetOutbound: number
  /** GET_PEERS to one peer at most this often; a Server answers an empty list to one that asks sooner. Default 60 s. */
  peerExchangeIntervalMs: number
  /** A PEERS answer lists peers we reached outbound within this window. Default 10 minutes. */
  reachedWindowMs: number
  /** Peers remembered as reached, for PEERS answers. Default 1,024. */
  maxReached: number
}

export const DEFAULT_PEER_LIMITS: PeerLimits = {
  ...DEFAULT_SESSION_LIMITS,
  ...DEFAULT_PENALTY_LIMITS,
  maxOutbound: 16,
  maxInbound: 64,
  maxUnidentified: 32,
  knownSetSize: 1024,
  statusIntervalMs: 2_000,
  reconnectMinMs: 500,
  reconnectMaxMs: 30_000,
  meritWindowMs: 5 * 60_000,
  evictionGraceMs: 30_000,
  maxSelfAddresses: 64,
  maxOutboundPerHost: 8,
  targetOutbound: 8,
  peerExchangeIntervalMs: 60_000,
  reachedWindowMs: 10 * 60_000,
  maxReached: 1_024,
}

/** The chain facts that go into our Status; the manager adds `timestamp` and `address`. */
export interface LocalChainStatus {
  height: number
  /** Omitted by an observer without a chain. */
  head?: Hash
  /** Omitted by an observer: it then accepts peers of any network. */
  genesis?: Hash
}

/** A configured peer: `host:port`, or `KEY@host:port` to pin the key it must prove. */
export interface PeerSpec {
  address: string
  key?: string
}

const PINNED = /^([0-9a-f]{64})@(.+)$/

/** Reads `host:port` or `KEY@host:port` (section 11). */
export function parsePeerSpec(spec: string): PeerSpec {
  const pinned = PINNED.exec(spec)
  return pinned ? { address: pinned[2]!, key: pinned[1]! } : { address: spec }
}

export interface PeerManagerOptions {
  transport: Transport
  /** Where to accept connections (`host:port`, port 0 picks one). Omit to only dial. */
  listen?: string
  /** The address put in our Status. Default: the bound listen address. */
  advertise?: string
  /** Peers to stay connected to (`host:port` or `KEY@host:port`), redialled with backoff for as long as we run. */
  peers?: readonly string[]
  chain: () => LocalChainStatus
  /**
   * How inbound sessions are answered. May be left out and given with
   * `handle()` before `start()`: sync and gossip are built on the manager,
   * so their handlers exist only after it.
   */
  handlers?: ServerHandlers
  /** Our network: blocks and Status heights are checked against it. Omitted by an observer. */
  network?: NetworkParams
  /** Our node key: proven on every connection whose other side asks (section 11). */
  identity?: NodeKey
  /** Refuse peers that prove no key (IDENTITY_REQUIRED). Default false. */
  requireIdentity?: boolean
  /** Features listed in our Status (e.g. `observer` for a bridge). */
  features?: readonly string[]
  /**
   * Peer exchange (section 13): serve GET_PEERS (the feature `peers`), ask
   * peers that offer it, keep what they say in this book, and dial from it
   * to keep `targetOutbound` connections. Omit to do none of it (1.0).
   */
  addressBook?: AddressBook
  limits?: Partial<PeerLimits>
  logger?: Logger
  /** Simulations only: block checks shared by nodes that share block objects (see BlockCheckCache). */
  blockChecks?: BlockCheckCache
  /** Unix ms now. Default Date.now. */
  now?: () => number
}

export interface PeerManagerEvents {
  /** Our outbound session to the peer finished its handshake. */
  ready: [peer: Peer]
  /** A Status arrived from the peer, on either connection. */
  status: [peer: Peer, status: Status]
  /** One of the peer's connections closed. */
  disconnect: [peer: Peer, info: CloseInfo]
  /** A misbehaviour was counted against a peer identity; `banned` when it reached the threshold. */
  penalty: [id: string, reason: string, banned: boolean]
  /**
   * Any connection closed, identified or not, handshake failures included
   * (what the `peer connection closed` log line says, as a value).
   */
  closed: [closed: ConnectionClosed]
}

/** One closed connection: who it was (as far as known), which way, and why. */
export interface ConnectionClosed {
  /** The peer's Status address, else the address we dialed; undefined for an inbound connection that never sent one. */
  peer: string | undefined
  remote: string
  direction: Connection['direction']
  info: CloseInfo
}

interface Dial {
  current: DialState
  timer: NodeJS.Timeout | undefined
  /** Dialed from the address book: reaching it verifies the entry. */
  fromBook: boolean
}

const hostOf = (address: string) => parseAddress(address)?.host ?? address

/** At most this many addresses remembered as having held an outbound slot (they may not evict). */
const MAX_SLOT_HOLDERS = 1_024

/**
 * Owns every connection of a node: listens, dials configured peers and the
 * addresses inbound peers advertise, identifies peers (by proven key, else
 * Status address), caps their number, redials with backoff, runs the
 * status beat, refuses identities that keep breaking the protocol, and
 * gives an outbound slot to a newcomer over a peer that delivers nothing.
 */
export class PeerManager extends EventEmitter<PeerManagerEvents> implements Service {
  readonly limits: PeerLimits
  private readonly logger: Logger
  private readonly now: () => number
  private readonly peersById = new Map<string, Peer>()
  private readonly dials = new Map<string, Dial>()
  private readonly configured = new Map<string, PeerSpec>()
  /** Addresses that turned out to be ourselves (bounded: dial-back addresses are peers' claims). */
  private readonly selfAddresses = new Set<string>()
  private readonly penalties: PenaltyBox
  private readonly unidentified = new Set<ServerSession>()
  private readonly abort = new AbortController()
  /** Peers reached over our own outbound connections, for PEERS answers (bounded, oldest first). */
  private readonly reached = new Map<string, { key: string | undefined; at: number }>()
  /** When each peer identity was last asked GET_PEERS. */
  private readonly asked = new Map<string, number>()
  private readonly book: AddressBook | undefined
  /** Dial addresses that held an outbound slot: they never evict to get one back (no churn). */
  private readonly heldSlot = new Set<string>()
  /** The identity each inbound session's misbehaviour counts against (see penaltyIdOf). */
  private readonly penaltyIds = new WeakMap<ServerSession, string>()
  private listener: Listener | undefined
  private beat: NodeJS.Timeout | undefined
  private advertised: string | undefined
  private handlers: ServerHandlers | undefined
  private readonly context: SessionContext

  constructor(private readonly options: PeerManagerOptions) {
    super()
    this.limits = { ...DEFAULT_PEER_LIMITS, ...options.limits }
    this.logger = options.logger ?? silentLogger
    this.now = options.now ?? Date.now
    this.penalties = new PenaltyBox(this.limits, this.now)
    for (const spec of options.peers ?? []) {
      const peer = parsePeerSpec(spec)
      this.configured.set(peer.address, peer)
    }
    // Every dial in flight listens for the abort; there are at most this many (see outboundCount).
    setMaxListeners(this.configured.size + this.limits.maxOutbound + 1, this.abort.signal)
    this.advertised = options.advertise
    this.handlers = options.handlers
    this.book = options.addressBook
    const offered = [...(this.book ? [FEATURE_PEERS] : []), ...(options.features ?? [])]
    const features = offered.length ? { features: offered } : {}
    this.context = {
      genesisHash: options.chain().genesis,
      network: options.network,
      identity: options.identity,
      requireIdentity: options.requireIdentity ?? false,
      now: this.now,
      logger: this.logger,
      limits: this.limits,
      blockChecks: options.blockChecks,
      peerExchange: this.book ? (asker) => this.peersFor(asker) : undefined,
      localStatus: (opening) => {
        const { genesis, ...chain } = options.chain()
        const named = opening && genesis !== undefined ? { genesis } : {}
        return { ...chain, ...named, ...features, timestamp: this.now(), address: this.address }
      },
    }
  }

  /** The address in our Status. */
  get address(): string {
    return this.advertised ?? this.listener?.address ?? '0.0.0.0:0'
  }

  /** Sets how inbound sessions are answered (before `start()`, when not given as an option). */
  handle(handlers: ServerHandlers): void {
    this.handlers = handlers
  }

  /** Our proven identity, if we have one. */
  get key(): string | undefined {
    return this.options.identity?.publicKey
  }

  /** Entries in the address book (0 without peer exchange). */
  get addressBookSize(): number {
    return this.book?.size ?? 0
  }

  /** Sizes of the bounded penalty tables (for tests and metrics). */
  get penaltyTableSize(): { struck: number; banned: number } {
    return this.penalties.size
  }

  async start(): Promise<void> {
    if (this.options.listen && !this.handlers)
      throw new Error('PeerManager: no handlers (pass `handlers` or call handle() before start())')
    if (this.options.listen) {
      this.listener = await this.options.transport.listen(this.options.listen, (connection) =>
        this.accept(connection),
      )
      this.advertised ??= this.listener.address
    }
    this.beat = setInterval(() => {
      this.beatAll()
      this.maintain()
    }, this.limits.statusIntervalMs)
    this.beat.unref?.()
    for (const address of this.configured.keys()) this.connect(address)
  }

  /** Closes every connection and stops dialing. */
  async stop(): Promise<void> {
    this.abort.abort()
    clearInterval(this.beat)
    for (const dial of this.dials.values()) clearTimeout(dial.timer)
    this.dials.clear()
    const closing: Promise<unknown>[] = []
    for (const peer of this.peersById.values()) {
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
    return [...this.peersById.values()]
  }

  /** Peers we can send to: our outbound session to them is ready. */
  readyPeers(): Peer[] {
    return this.peers().filter((peer) => peer.ready)
  }

  /** Peers gossip relays to: ready, and not observers (section 9's m counts relaying nodes). */
  relayPeers(): Peer[] {
    return this.peers().filter((peer) => peer.ready && !peer.observer)
  }

  /** The peer with this identity (a proven key, else a Status address). */
  get(id: string): Peer | undefined {
    return this.peersById.get(id)
  }

  /** Sends a SHAKEHAND now to every ready peer (or those `which` picks), e.g. after our head moved. */
  beatAll(which: (peer: Peer) => boolean = () => true): void {
    for (const peer of this.peersById.values()) if (peer.ready && which(peer)) peer.outbound!.beat()
  }

  /**
   * Dials `address` unless we are connected or dialing there, it is in
   * backoff, or it is ourselves. Past the outbound cap, a peer that was not
   * configured dials only if a slot can be taken from one that delivers nothing.
   */
  connect(
    address: string,
    { evict = true, fromBook = false }: { evict?: boolean; fromBook?: boolean } = {},
  ): void {
    if (this.abort.signal.aborted || address === this.address || this.selfAddresses.has(address))
      return
    const dial = this.dials.get(address) ?? { current: IDLE, timer: undefined, fromBook }
    if (dial.current.state === 'dialing' || dial.current.state === 'connected' || dial.timer) return
    if (!this.configured.has(address)) {
      if (this.outboundToHost(hostOf(address)) >= this.limits.maxOutboundPerHost) return
      if (this.outboundCount() >= this.limits.maxOutbound) {
        // Only a newcomer may evict: a peer that held a slot and lost it waits for a free one.
        if (!evict || this.heldSlot.has(address) || !this.evictForNewcomer(address)) return
      }
    }
    this.dials.set(address, dial)
    // A backoff whose timer has fired is due; anything else starts fresh.
    const event: DialEvent = dial.current.state === 'backoff' ? { type: 'due' } : { type: 'dial' }
    if (!this.transition(address, dial, event)) return
    this.options.transport.dial(address, { signal: this.abort.signal }).then(
      (connection) => this.dialed(address, connection, dial),
      (error: Error) => {
        this.logger.debug({ peer: address, err: error.message }, 'dial failed')
        if (!this.configured.has(address)) this.book?.failed(address)
        this.transition(address, dial, { type: 'failed' })
      },
    )
  }

  /**
   * Peer exchange, run with the status beat: ask peers that offer `peers`
   * (each at most once per interval), and dial book entries while we have
   * fewer than `targetOutbound` outbound connections.
   */
  private maintain(): void {
    const book = this.book
    if (!book || this.abort.signal.aborted) return
    const now = this.now()
    for (const peer of this.peersById.values()) {
      if (!peer.ready || !peer.offers(FEATURE_PEERS)) continue
      if (
        now - (this.asked.get(peer.id) ?? Number.NEGATIVE_INFINITY) <
        this.limits.peerExchangeIntervalMs
      )
        continue
      this.asked.set(peer.id, now)
      peer.outbound!.getPeers().then(
        (entries) => book.learn(entries, peer.id, (address) => this.isDialable(address)),
        () => {},
      )
    }
    const missing = this.limits.targetOutbound - this.outboundCount()
    if (missing <= 0) return
    const busy = (address: string) => this.dials.has(address) || !this.isDialable(address)
    for (const entry of book.candidates(missing, busy))
      this.connect(entry.address, { evict: false })
  }

  /** An address we might dial: not ours, not configured (those are dialed anyway). */
  private isDialable(address: string): boolean {
    return (
      address !== this.address && !this.selfAddresses.has(address) && !this.configured.has(address)
    )
  }

  /**
   * Our PEERS answer to `asker`: peers we reached outbound within the
   * window, at random, never the asker itself; empty to one that asks too often.
   */
  private peersFor(asker: ServerSession): PeerEntry[] {
    const now = this.now()
    const id = asker.peerId
    const last = asker.lastAskedAt
    asker.lastAskedAt = now
    if (last !== undefined && now - last < this.limits.peerExchangeIntervalMs) return []
    const fresh: PeerEntry[] = []
    for (const [address, { key, at }] of this.reached) {
      if (now - at > this.limits.reachedWindowMs) continue
      if (address === asker.peerAddress || (key !== undefined && key === id)) continue
      fresh.push(key === undefined ? { address } : { address, key })
    }
    for (let i = fresh.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[fresh[i], fresh[j]] = [fresh[j]!, fresh[i]!]
    }
    return fresh.slice(0, MAX_PEER_ENTRIES)
  }

  /** Remembers that our outbound connection reached `peer` now. */
  private noteReached(peer: Peer): void {
    if (peer.observer) return
    this.reached.delete(peer.address)
    if (this.reached.size >= this.limits.maxReached)
      this.reached.delete(this.reached.keys().next().value as string)
    this.reached.set(peer.address, { key: peer.key, at: this.now() })
  }

  /**
   * Counts a misbehaviour against a peer identity (a proven key, else an
   * address); at the threshold the identity is refused for `banMs` and its
   * connections close with BANNED.
   */
  penalise(id: string, reason: string, earnedOn: 'inbound' | 'outbound' = 'outbound'): void {
    const { strikes, banned } = this.penalties.penalise(id)
    this.logger.warn({ peer: id, reason, strikes }, 'peer penalised')
    this.emit('penalty', id, reason, banned)
    if (!banned) return
    this.logger.warn({ peer: id, reason: R.BANNED, ms: this.limits.banMs }, 'peer banned')
    // Our own dial reached that Server: a ban earned on an inbound claim of its address does not
    // close it (a proven key is the peer itself, whichever connection erred).
    const peer = this.peersById.get(id)
    if (peer && (earnedOn === 'outbound' || peer.key === id)) peer.outbound?.close(R.BANNED)
    for (const other of this.peersById.values())
      for (const session of other.inbound)
        if ((this.penaltyIds.get(session) ?? other.id) === id) session.close(R.BANNED)
  }

  /** Milliseconds left on a refusal of identity `id`, 0 when not refused. */
  bannedFor(id: string): number {
    return this.penalties.bannedFor(id)
  }

  /** Applies a dial event and arms the retry timer of a backoff; false when the state did not move. */
  private transition(address: string, dial: Dial, event: DialEvent): boolean {
    const before = dial.current
    dial.current = nextDialState(
      before,
      event,
      { now: this.now(), random: Math.random() },
      this.limits,
    )
    if (dial.current === before) return false
    clearTimeout(dial.timer)
    dial.timer = undefined
    if (dial.current.state === 'backoff') {
      if (this.abort.signal.aborted || !this.wanted(address)) {
        this.dials.delete(address)
        return true
      }
      dial.timer = setTimeout(
        () => {
          dial.timer = undefined
          this.connect(address)
        },
        Math.max(0, dial.current.retryAt - this.now()),
      )
      dial.timer.unref?.()
    }
    return true
  }

  /** Outbound connections and dials in flight to addresses on `host` that we did not configure. */
  private outboundToHost(host: string): number {
    let count = 0
    for (const [address, dial] of this.dials)
      if (
        (dial.current.state === 'dialing' || dial.current.state === 'connected') &&
        !this.configured.has(address) &&
        hostOf(address) === host
      )
        count++
    return count
  }

  private outboundCount(): number {
    let count = 0
    for (const peer of this.peersById.values()) if (peer.outbound) count++
    for (const dial of this.dials.values()) if (dial.current.state === 'dialing') count++
    return count
  }

  /** Inbound connections from identified peers. */
  private inboundCount(): number {
    let count = 0
    for (const peer of this.peersById.values()) count += peer.inbound.size
    return count
  }

  /**
   * All outbound slots are taken and `address` wants one: close the
   * outbound connection of the dialed-back peer with the least merit (no new
   * block within `meritWindowMs`, past its grace; the slowest first). Configured
   * peers and peers that deliver are never evicted. True when a slot was freed.
   */
  private evictForNewcomer(address: string): boolean {
    const now = this.now()
    let victim: Peer | undefined
    for (const peer of this.peersById.values()) {
      const session = peer.outbound
      if (!session || this.configured.has(this.dialAddressOf(peer) ?? '')) continue
      if (now - peer.outboundSince < this.limits.evictionGraceMs) continue
      if (now - peer.lastDeliveryAt < this.limits.meritWindowMs) continue
      if (!victim || (session.rttMs ?? 0) > (victim.outbound!.rttMs ?? 0)) victim = peer
    }
    if (!victim) return false
    this.logger.info(
      { peer: victim.id, for: address, reason: R.EVICTED },
      'outbound slot given to a newcomer',
    )
    victim.outbound!.close(R.EVICTED)
    victim.outbound = undefined
    return true
  }

  private dialAddressOf(peer: Peer): string | undefined {
    for (const [address, dial] of this.dials)
      if (dial.current.state === 'connected' && dial.current.peerId === peer.id) return address
    return undefined
  }

  private async dialed(dialedAddress: string, connection: Connection, dial: Dial) {
    const session = new ClientSession(connection, this.context)
    const closing = connection.closed.then((info) =>
      this.logClose(session.remoteStatus?.address ?? dialedAddress, connection, info),
    )
    let status: Status
    let key: string | undefined
    try {
      ;({ status, key } = await session.handshake({
        expectedKey: this.configured.get(dialedAddress)?.key,
      }))
    } catch {
      await closing
      if (!this.configured.has(dialedAddress)) this.book?.failed(dialedAddress)
      this.transition(dialedAddress, dial, { type: 'failed' })
      return
    }
    if (status.address === this.address || (key !== undefined && key === this.key)) {
      this.rememberSelf(dialedAddress)
      session.close(R.SELF_CONNECTION)
      this.dials.delete(dialedAddress)
      return
    }
    const id = key ?? status.address
    const banned = this.bannedFor(id)
    if (banned > 0) {
      session.close(R.BANNED)
      this.transition(dialedAddress, dial, { type: 'refused', ms: banned })
      return
    }
    const peer = this.peerFor(id, status.address, key)
    if (peer.outbound?.open) {
      session.close(R.DUPLICATE_CONNECTION)
      this.dials.delete(dialedAddress)
      return
    }
    this.transition(dialedAddress, dial, { type: 'connected', peerId: id })
    peer.outbound = session
    peer.outboundSince = this.now()
    this.noteStatus(peer, status)
    // Only our own pick from the book verifies an entry: a dial-back's address was a peer's claim.
    if (dial.fromBook) this.book?.verified(dialedAddress, key)
    if (this.heldSlot.size >= MAX_SLOT_HOLDERS)
      this.heldSlot.delete(this.heldSlot.values().next().value as string)
    this.heldSlot.add(dialedAddress)
    this.noteReached(peer)
    session.on('status', (next) => {
      this.noteStatus(peer, next)
      this.noteReached(peer)
    })
    session.on('close', (info) => {
      if (peer.outbound === session) peer.outbound = undefined
      this.afterClose(peer, info)
      if (this.dials.get(dialedAddress) === dial)
        this.transition(dialedAddress, dial, { type: 'lost' })
    })
    this.emit('ready', peer)
  }

  private rememberSelf(address: string): void {
    if (this.selfAddresses.size >= this.limits.maxSelfAddresses)
      this.selfAddresses.delete(this.selfAddresses.values().next().value as string)
    this.selfAddresses.add(address)
  }

  /** Configured peers always; others while the peer we reached there keeps an inbound connection to us. */
  private wanted(address: string): boolean {
    if (this.configured.has(address)) return true
    for (const peer of this.peersById.values())
      if (peer.address === address && peer.inbound.size > 0) return true
    return false
  }

  private accept(connection: Connection): void {
    if (this.unidentified.size >= this.limits.maxUnidentified) {
      const oldest = this.unidentified.values().next().value as ServerSession
      this.unidentified.delete(oldest)
      oldest.close(R.PEER_LIMIT)
    }
    const session = new ServerSession(connection, this.context, this.handlers!)
    this.unidentified.add(session)
    session.once('close', (info) => {
      this.unidentified.delete(session)
      this.logClose(session.peerAddress, connection, info)
    })
    session.once('identified', (status, key) => this.identify(session, status, key))
  }

  private identify(session: ServerSession, status: Status, key: string | undefined): void {
    this.unidentified.delete(session)
    const address = status.address
    if (address === this.address || (key !== undefined && key === this.key)) {
      session.close(R.SELF_CONNECTION)
      return
    }
    const id = key ?? address
    const penaltyId = this.penaltyIdOf(session, address, key)
    this.penaltyIds.set(session, penaltyId)
    if (this.bannedFor(penaltyId) > 0) {
      session.close(R.BANNED)
      return
    }
    const known = this.peersById.get(id)
    if (!known?.inbound.size && this.inboundCount() >= this.limits.maxInbound) {
      this.logger.warn({ peer: id, reason: R.PEER_LIMIT }, 'inbound peer refused')
      session.close(R.PEER_LIMIT)
      return
    }
    const peer = this.peerFor(id, address, key)
    // A node holds one connection to us; a second one means it restarted and the old one is
    // stale. Without a proven key that holds only from the same host: from another, it is a
    // claim of someone else's address, and the newcomer is the one refused.
    const remote = hostOf(session.connection.remoteAddress)
    for (const older of peer.inbound) {
      if (key === undefined && hostOf(older.connection.remoteAddress) !== remote) {
        session.close(R.DUPLICATE_CONNECTION)
        return
      }
      older.close(R.DUPLICATE_CONNECTION)
    }
    peer.inbound.add(session)
    this.noteStatus(peer, status)
    session.on('status', (next) => this.noteStatus(peer, next))
    session.once('close', (info) => {
      peer.inbound.delete(session)
      this.afterClose(peer, info, penaltyId)
    })
    // Its address is a claim: into the book as one, within its host's quota.
    this.book?.learn([{ address, ...(key ? { key } : {}) }], `inbound ${remote}`, (a) =>
      this.isDialable(a),
    )
    // Dial back the address it advertised: gossip travels only on our own outbound connections.
    if (!peer.outbound) this.connect(address)
  }

  /**
   * Whom an inbound session's misbehaviour counts against: its proven key;
   * else its claimed address when that address is on the host it connects
   * from; else that claim as made from that host. So erring under another
   * host's address never gets that address refused (section 10 by address,
   * 1.1 by key), and our own outbound connection there is never closed for it.
   */
  private penaltyIdOf(session: ServerSession, address: string, key: string | undefined): string {
    if (key !== undefined) return key
    const from = hostOf(session.connection.remoteAddress)
    return hostOf(address) === from ? address : `${address} from ${from}`
  }

  private peerFor(id: string, address: string, key: string | undefined): Peer {
    let peer = this.peersById.get(id)
    if (!peer) {
      peer = new Peer(id, address, key, this.limits.knownSetSize)
      this.peersById.set(id, peer)
    } else if (key !== undefined) {
      // A proven key may move to another address; an address-identified peer cannot.
      peer.address = address
    }
    return peer
  }

  private noteStatus(peer: Peer, status: Status): void {
    peer.status = status
    this.emit('status', peer, status)
    // An inbound-only peer we could not dial back yet (slots were full): try again.
    if (!peer.outbound && peer.inbound.size > 0 && !peer.observer) this.connect(peer.address)
  }

  private afterClose(peer: Peer, info: CloseInfo, inboundPenaltyId?: string): void {
    if (info.initiator === 'local' && PENALISED_REASONS.has(info.reason))
      this.penalise(
        inboundPenaltyId ?? peer.id,
        info.reason,
        inboundPenaltyId === undefined ? 'outbound' : 'inbound',
      )
    if (!peer.connected && this.peersById.get(peer.id) === peer) {
      // Whichever connection closed last, the peer is gone: so is what we remember of it.
      this.peersById.delete(peer.id)
      this.asked.delete(peer.id)
    }
    this.emit('disconnect', peer, info)
  }

  private logClose(peer: string | undefined, connection: Connection, info: CloseInfo) {
    this.emit('closed', {
      peer,
      remote: connection.remoteAddress,
      direction: connection.direction,
      info,
    })
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
    else if (
      info.reason === R.GENESIS_MISMATCH ||
      info.reason === R.BANNED ||
      info.reason === R.KEY_MISMATCH ||
      info.reason === R.IDENTITY_REQUIRED
    )
      this.logger.warn(fields, 'peer connection closed')
    else this.logger.info(fields, 'peer connection closed')
  }
}
