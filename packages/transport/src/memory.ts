/**
 * An in-memory network for simulating hundreds of nodes in one process.
 * Each direction of a connection is a channel with one-way latency, jitter,
 * bandwidth and loss. Like TCP, a channel is reliable and ordered: a lost
 * message costs a retransmission delay for it and everything behind it.
 * Random draws come from per-channel generators seeded from the network
 * seed, so a run is repeatable.
 */
import {
  decodeMessage,
  encodeMessage,
  FrameTooLargeError,
  type Message,
  parseAddress,
  seededRandom,
} from '@chronos/codec'
import { AbstractConnection } from './abstract-connection.js'
import { attemptDial } from './dial-attempt.js'
import { DialError, InvalidAddressError, ListenError } from './errors.js'
import { InboundLimiter } from './inbound-limiter.js'
import { SharedBlocks } from './shared-blocks.js'
import {
  type Connection,
  type DialOptions,
  type Direction,
  type Listener,
  type ResolvedTransportOptions,
  resolveOptions,
  type Transport,
  type TransportOptions,
} from './types.js'

export interface LinkConditions {
  /** One-way delay, ms. Default 0. */
  latencyMs?: number
  /** Extra delay drawn uniformly from [0, jitterMs). Default 0. */
  jitterMs?: number
  /** Serialisation rate of the link. Default unlimited. */
  bandwidthBytesPerSecond?: number
  /** Probability that a transmission is lost and must be repeated. Default 0. */
  lossRate?: number
  /** Delay a loss adds. Default max(200, 3 × latency). */
  retransmitMs?: number
}

export interface MemoryNetworkOptions extends LinkConditions {
  /** Seed of every random draw. Default 1. */
  seed?: number
  /**
   * Called for every message put on a link, with the delay drawn for it.
   * Simulations use it to count bytes; tests use it to check that a seed
   * repeats without depending on timer resolution.
   */
  onTransmit?: (transmission: Transmission) => void
  /**
   * Simulations of many nodes in one process: decode each distinct
   * NEW_BLOCK body once for the whole network and hand every receiver the
   * same deeply frozen message (see shared-blocks.ts). Off by default; a
   * number is how many distinct bodies are remembered (`true`: 256).
   */
  shareBlocks?: boolean | number
}

/** How a connection turns messages into bodies and back. */
interface BodyCodec {
  encode(message: Message): string
  decode(body: string): Message
}

const plainCodec: BodyCodec = { encode: encodeMessage, decode: decodeMessage }

export interface Transmission {
  from: string
  to: string
  bytes: number
  /** Latency + jitter + retransmissions drawn for this message, ms. */
  delayMs: number
}

const utf8Length = (text: string) => Buffer.byteLength(text)

type Delivery = { at: number; body: string; size: number } | { at: number; close: true }

/** One direction of a connection: an ordered queue drained by a single timer. */
class Channel {
  private queue: Delivery[] = []
  private head = 0
  private timer: NodeJS.Timeout | undefined
  private linkFreeAt = 0
  private lastAt = 0

  constructor(
    private readonly conditions: Required<LinkConditions>,
    private readonly random: () => number,
    private readonly onBody: (body: string, size: number) => void,
    private readonly onClose: () => void,
    private readonly onTransmit: ((bytes: number, delayMs: number) => void) | undefined,
  ) {}

  get idle(): boolean {
    return this.head >= this.queue.length
  }

  send(body: string, size: number): void {
    const now = performance.now()
    const { bandwidthBytesPerSecond, latencyMs, jitterMs, lossRate, retransmitMs } = this.conditions
    const start = Math.max(now, this.linkFreeAt)
    this.linkFreeAt =
      start +
      (Number.isFinite(bandwidthBytesPerSecond) ? (size * 1000) / bandwidthBytesPerSecond : 0)
    let delay = latencyMs + (jitterMs > 0 ? this.random() * jitterMs : 0)
    while (lossRate > 0 && this.random() < lossRate) delay += retransmitMs
    this.onTransmit?.(size, delay)
    this.enqueue({ at: Math.max(this.linkFreeAt + delay, this.lastAt), body, size })
  }

  /** Closes after what is queued (graceful), or at once, dropping it. */
  close(graceful: boolean): void {
    if (!graceful) {
      this.queue = []
      this.head = 0
      this.lastAt = 0
    }
    this.enqueue({
      at: Math.max(performance.now() + this.conditions.latencyMs, this.lastAt),
      close: true,
    })
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.queue = []
    this.head = 0
  }

  private enqueue(delivery: Delivery): void {
    this.lastAt = delivery.at
    this.queue.push(delivery)
    this.schedule()
  }

  private schedule(): void {
    if (this.timer || this.idle) return
    const next = this.queue[this.head]!
    this.timer = setTimeout(() => this.fire(), Math.max(0, next.at - performance.now()))
  }

  private fire(): void {
    this.timer = undefined
    const now = performance.now()
    while (!this.idle && this.queue[this.head]!.at <= now + 0.5) {
      const delivery = this.queue[this.head++]!
      if ('close' in delivery) {
        this.stop()
        this.onClose()
        return
      }
      this.onBody(delivery.body, delivery.size)
    }
    if (this.idle) {
      this.queue = []
      this.head = 0
    }
    this.schedule()
  }
}

export class MemoryConnection extends AbstractConnection {
  peer!: MemoryConnection
  outgoing!: Channel
  private unconsumed = 0
  private readingPaused = false
  private readonly unread: { body: string; size: number }[] = []

  constructor(
    direction: Direction,
    localAddress: string,
    remoteAddress: string,
    options: ResolvedTransportOptions,
    private readonly codec: BodyCodec = plainCodec,
  ) {
    super({ transport: 'memory', direction, localAddress, remoteAddress, options })
  }

  get bufferedBytes(): number {
    return this.unconsumed
  }

  protected write(message: Message): void {
    const body = this.codec.encode(message)
    const size = utf8Length(body)
    if (size > this.options.maxBodyBytes)
      throw new FrameTooLargeError(size, this.options.maxBodyBytes)
    this.unconsumed += size
    this.outgoing.send(body, size)
  }

  protected pauseReading(): void {
    this.readingPaused = true
  }

  protected resumeReading(): void {
    this.readingPaused = false
    while (this.unread.length > 0 && !this.readingPaused && this.status === 'open') {
      const { body, size } = this.unread.shift()!
      this.consume(body, size)
    }
  }

  protected teardown(graceful: boolean): void {
    this.unread.length = 0
    if (this.peer.status === 'open') this.outgoing.close(graceful)
    else this.outgoing.stop()
  }

  /** Called by the peer's channel. */
  arrive(body: string, size: number): void {
    if (this.status === 'closed') return
    this.touched()
    if (this.readingPaused) this.unread.push({ body, size })
    else this.consume(body, size)
  }

  /** The peer's channel delivered its close. */
  hangUp(reason: 'REMOTE_CLOSE' | 'TRANSPORT_ERROR' = 'REMOTE_CLOSE'): void {
    this.outgoing.stop()
    this.remoteClosed(reason)
  }

  /** The peer took `size` of our bytes off the wire. */
  consumed(size: number): void {
    this.unconsumed -= size
    this.bufferShrank()
  }

  private consume(body: string, size: number): void {
    this.peer.consumed(size)
    if (size > this.options.maxBodyBytes) {
      this.close('PROTOCOL_ERROR', new FrameTooLargeError(size, this.options.maxBodyBytes))
      return
    }
    let message: Message
    try {
      message = this.codec.decode(body)
    } catch (error) {
      this.close('PROTOCOL_ERROR', error as Error)
      return
    }
    this.received(message)
  }
}

interface MemoryListenerEntry {
  listener: MemoryListener
  options: ResolvedTransportOptions
  onConnection: (connection: Connection) => void
  limiter: InboundLimiter
}

class MemoryListener implements Listener {
  readonly connections = new Set<MemoryConnection>()
  private closing: Promise<void> | undefined

  constructor(
    readonly address: string,
    private readonly unregister: () => void,
  ) {}

  get connectionCount(): number {
    return this.connections.size
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.unregister()
      const open = [...this.connections]
      for (const connection of open) connection.close('LISTENER_CLOSED')
      await Promise.all(open.map((c) => c.closed))
    })()
    return this.closing
  }
}

const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`)

export class MemoryNetwork {
  private readonly defaults: Required<LinkConditions>
  private readonly seed: number
  private readonly onTransmit: MemoryNetworkOptions['onTransmit']
  private readonly listeners = new Map<string, MemoryListenerEntry>()
  private readonly overrides = new Map<string, LinkConditions>()
  private readonly cut = new Set<string>()
  private readonly open = new Set<MemoryConnection>()
  private readonly codec: BodyCodec
  /** The shared blocks, when `shareBlocks` is on (a node's verifier can ask whether a block is one). */
  readonly sharedBlocks: SharedBlocks | undefined
  private hosts = 0
  private channels = 0
  private ports = 0

  constructor(options: MemoryNetworkOptions = {}) {
    this.seed = options.seed ?? 1
    this.onTransmit = options.onTransmit
    this.defaults = complete(options)
    const share = options.shareBlocks
    this.sharedBlocks = share ? new SharedBlocks(share === true ? 256 : share) : undefined
    this.codec = this.sharedBlocks ?? plainCodec
  }

  /** A transport whose connections originate from `host` (default a fresh name). */
  transport(options: TransportOptions & { host?: string } = {}): Transport {
    return new MemoryTransport(this, options.host ?? `mem-${++this.hosts}`, resolveOptions(options))
  }

  /** Link conditions between two hosts, both directions; `undefined` restores the defaults. */
  setConditions(hostA: string, hostB: string, conditions: LinkConditions | undefined): void {
    if (conditions) this.overrides.set(pairKey(hostA, hostB), conditions)
    else this.overrides.delete(pairKey(hostA, hostB))
  }

  /** Cuts every link between the two groups: open connections fail, dials are refused. */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    for (const a of groupA) for (const b of groupB) this.cut.add(pairKey(a, b))
    for (const connection of [...this.open]) {
      if (
        this.cut.has(pairKey(hostOf(connection.localAddress), hostOf(connection.remoteAddress)))
      ) {
        connection.hangUp('TRANSPORT_ERROR')
      }
    }
  }

  /** Restores every cut link. */
  heal(): void {
    this.cut.clear()
  }

  /** @internal */
  register(address: string, entry: MemoryListenerEntry): void {
    if (this.listeners.has(address)) throw new ListenError(address, new Error('address in use'))
    this.listeners.set(address, entry)
  }

  /** @internal */
  unregister(address: string): void {
    this.listeners.delete(address)
  }

  /** @internal */
  nextPort(): number {
    return 40_000 + (++this.ports % 20_000)
  }

  /** @internal */
  conditions(hostA: string, hostB: string): Required<LinkConditions> {
    const override = this.overrides.get(pairKey(hostA, hostB))
    return override ? complete({ ...this.defaults, ...override }) : this.defaults
  }

  private tracer(from: string, to: string) {
    const onTransmit = this.onTransmit
    return (
      onTransmit && ((bytes: number, delayMs: number) => onTransmit({ from, to, bytes, delayMs }))
    )
  }

  /** @internal */
  connect(
    fromHost: string,
    fromOptions: ResolvedTransportOptions,
    address: string,
  ): { outbound: MemoryConnection; entry: MemoryListenerEntry } | Error {
    const entry = this.listeners.get(address)
    if (!entry || this.cut.has(pairKey(fromHost, hostOf(address))))
      return new Error('connection refused')
    const fromAddress = `${fromHost}:${this.nextPort()}`
    const refusal = entry.limiter.acquire(fromHost)
    if (refusal) {
      entry.options.logger.warn(
        { remote: fromAddress, reason: refusal },
        'inbound connection refused',
      )
      return new Error(`connection refused (${refusal})`)
    }
    const outbound = new MemoryConnection('outbound', fromAddress, address, fromOptions, this.codec)
    const inbound = new MemoryConnection('inbound', address, fromAddress, entry.options, this.codec)
    const conditions = this.conditions(fromHost, hostOf(address))
    outbound.peer = inbound
    inbound.peer = outbound
    outbound.outgoing = new Channel(
      conditions,
      seededRandom(this.seed * 7919 + ++this.channels),
      (b, s) => inbound.arrive(b, s),
      () => inbound.hangUp(),
      this.tracer(fromAddress, address),
    )
    inbound.outgoing = new Channel(
      conditions,
      seededRandom(this.seed * 7919 + ++this.channels),
      (b, s) => outbound.arrive(b, s),
      () => outbound.hangUp(),
      this.tracer(address, fromAddress),
    )
    for (const connection of [outbound, inbound]) {
      this.open.add(connection)
      void connection.closed.then(() => this.open.delete(connection))
    }
    entry.listener.connections.add(inbound)
    void inbound.closed.then(() => {
      entry.listener.connections.delete(inbound)
      entry.limiter.release(fromHost)
    })
    return { outbound, entry }
  }
}

function complete(conditions: LinkConditions): Required<LinkConditions> {
  const latencyMs = conditions.latencyMs ?? 0
  return {
    latencyMs,
    jitterMs: conditions.jitterMs ?? 0,
    bandwidthBytesPerSecond: conditions.bandwidthBytesPerSecond ?? Number.POSITIVE_INFINITY,
    lossRate: conditions.lossRate ?? 0,
    retransmitMs: conditions.retransmitMs ?? Math.max(200, 3 * latencyMs),
  }
}

const hostOf = (address: string) => parseAddress(address)?.host ?? address

class MemoryTransport implements Transport {
  readonly name = 'memory'

  constructor(
    private readonly network: MemoryNetwork,
    readonly host: string,
    private readonly options: ResolvedTransportOptions,
  ) {}

  async listen(address: string, onConnection: (connection: Connection) => void): Promise<Listener> {
    const target = parseAddress(address)
    if (!target) throw new InvalidAddressError(address)
    const bound = target.port === 0 ? `${target.host}:${this.network.nextPort()}` : address
    const listener = new MemoryListener(bound, () => this.network.unregister(bound))
    this.network.register(bound, {
      listener,
      options: this.options,
      onConnection,
      limiter: new InboundLimiter(
        this.options.maxInboundConnections,
        this.options.maxInboundPerHost,
      ),
    })
    return listener
  }

  dial(address: string, { signal }: DialOptions = {}): Promise<Connection> {
    if (!parseAddress(address)) return Promise.reject(new InvalidAddressError(address))
    const { latencyMs } = this.network.conditions(this.host, hostOf(address))
    return attemptDial(address, signal, this.options.dialTimeoutMs, (succeed, fail) => {
      // Connection set-up takes a round trip, like a TCP handshake.
      const handshake = setTimeout(() => {
        const result = this.network.connect(this.host, this.options, address)
        if (result instanceof Error) return fail(new DialError(address, result))
        succeed(result.outbound)
        result.entry.onConnection(result.outbound.peer)
      }, 2 * latencyMs)
      return () => clearTimeout(handshake)
    })
  }
}

/** Creates an in-memory network: `const net = memoryNetwork({latencyMs: 50, seed: 7}); net.transport()`. */
export function memoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  return new MemoryNetwork(options)
}
