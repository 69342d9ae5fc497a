/**
 * What the session targets share: an in-process connection built on the
 * transport's own AbstractConnection (so pausing, the send-buffer
 * accounting and close bookkeeping are the real ones) whose far end is the
 * fuzzer, and a generator of wire messages from fuzz bytes.
 */
import {
  type Block,
  ChronosError,
  checkWellFormed,
  encodeFrame,
  MESSAGE_CODES,
  type Message,
  messageFromJson,
  nodeKeyFromSeed,
  readNetworkParams,
  silentLogger,
} from '@chronos/codec'
import {
  DEFAULT_SESSION_LIMITS,
  PEER_CLOSE_REASONS,
  type SessionContext,
  type SessionLimits,
} from '@chronos/peer'
import type { CloseInfo, Direction } from '@chronos/transport'
import { AbstractConnection, resolveOptions } from '@chronos/transport/kit'
import type { ByteSource } from './bytes.js'
import { check, describe, expectTyped } from './finding.js'
import { blockPool, dataPool, genesisBlocks, genesisHash, hashPool } from './vectors.js'

export class FuzzConnection extends AbstractConnection {
  readonly sent: Message[] = []
  readingPaused = false
  private buffered = 0

  constructor(direction: Direction) {
    super({
      transport: 'fuzz',
      direction,
      localAddress: '127.0.0.1:7001',
      remoteAddress: '127.0.0.1:7002',
      // A small high-water mark makes backpressure reachable in a few messages.
      options: resolveOptions({
        idleTimeoutMs: 0,
        highWaterMarkBytes: 4096,
        maxWriteBufferBytes: 256 * 1024,
      }),
    })
  }

  get bufferedBytes(): number {
    return this.buffered
  }

  protected write(message: Message): void {
    // What TCP does on send: refuse what cannot be framed, then buffer the frame.
    const frame = encodeFrame(message, { maxBodyBytes: this.options.maxBodyBytes })
    this.sent.push(message)
    this.buffered += frame.length
  }

  protected pauseReading(): void {
    this.readingPaused = true
  }

  protected resumeReading(): void {
    this.readingPaused = false
  }

  protected teardown(): void {}

  /** The far end sends `message` (already decoded, as the transport would hand it over). */
  deliver(message: Message): void {
    this.received(message)
  }

  /** The far end reads everything we buffered. */
  drainAll(): void {
    this.buffered = 0
    this.bufferShrank()
  }

  /** The far end hangs up. */
  hangUp(): void {
    this.remoteClosed('REMOTE_CLOSE')
  }
}

const OTHER_GENESIS = 'f'.repeat(64)
const ADDRESSES = ['127.0.0.1:7002', '[::1]:7003', 'localhost:1', '127.0.0.1:0', 'x', '']
const EXTRA_CODES = ['BOGUS', 'shakehand', '']

/** A JSON value for `data`: mostly from the vectors, sometimes built or nonsense. */
function dataFor(code: string, source: ByteSource): unknown {
  const pool = dataPool()
  switch (source.int(7)) {
    case 0:
    case 1:
      return source.pick(pool.get(code) ?? [null])
    case 2:
      return source.pick(blockPool())
    case 3:
      return source.pick(hashPool())
    case 4:
      return {
        timestamp: source.int(1) ? Date.now() : source.int(0xffffffff),
        height: source.pick([0, 1, 2, 3, source.int(0xffff), -1, 2 ** 53]),
        address: source.pick(ADDRESSES),
        ...(source.bool() ? { genesis: source.bool() ? genesisHash : OTHER_GENESIS } : {}),
        ...(source.bool() ? { head: source.pick(hashPool()) } : {}),
      }
    case 5:
      return source.pick([0, 1, 2, 3, -1, 1.5, null, 'x', [], {}, true, 2 ** 53])
    default: {
      const others = [...pool.values()].flat()
      return source.pick(others.length ? others : [null])
    }
  }
}

/**
 * A message a peer could put on the wire, from fuzz bytes. Anything the codec
 * refuses is a message the transport would have closed the connection for:
 * it must be refused with a typed codec error and is not delivered.
 */
export function wireMessage(source: ByteSource): Message | undefined {
  const code = source.pick([...MESSAGE_CODES, ...EXTRA_CODES])
  const envelope = { code, data: dataFor(code, source) }
  try {
    return messageFromJson(JSON.parse(JSON.stringify(envelope)))
  } catch (error) {
    expectTyped(error, `messageFromJson(${code})`)
    return undefined
  }
}

const HASH = /^[0-9a-f]{64}$/

/** Hashes our own code may send (the callers of a session pass only well-formed ones). */
export const sendableHashes = (): string[] => hashPool().filter((h) => HASH.test(h))

/** Blocks our own code may send: well-formed ones (gossip relays only those). */
export const sendableBlocks = (): Block[] =>
  (blockPool() as Block[]).filter((b) => checkWellFormed(b).ok)

/** The session context both targets run in: the vectors' open network, our key or none. */
export function sessionContext(source: ByteSource, limits: Partial<SessionLimits>): SessionContext {
  const identity = source.bool() ? OUR_KEY : undefined
  return {
    localStatus: ourStatus,
    genesisHash,
    network: NETWORK,
    identity,
    requireIdentity: identity !== undefined && source.bool(),
    now: Date.now,
    // Offering the `peers` feature or not (section 13): the vectors' own PEERS list.
    peerExchange: source.bool() ? () => PEER_ENTRIES : undefined,
    logger: silentLogger,
    limits: {
      ...DEFAULT_SESSION_LIMITS,
      handshakeTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      writeStallTimeoutMs: 60_000,
      ...limits,
    },
  }
}

const OUR_KEY = nodeKeyFromSeed('11'.repeat(32))
const PEER_ENTRIES = ((dataPool().get('PEERS') ?? []).find(
  (d) => Array.isArray(d) && d.length > 0,
) ?? []) as ReturnType<NonNullable<SessionContext['peerExchange']>>
const NETWORK = readNetworkParams(genesisBlocks()[0])

export function ourStatus(opening: boolean) {
  return {
    timestamp: Date.now(),
    height: 3,
    address: '127.0.0.1:7001',
    head: hashPool()[3] ?? genesisHash,
    ...(opening ? { genesis: genesisHash } : {}),
  }
}

const KNOWN_REASONS = new Set<string>([
  ...Object.values(PEER_CLOSE_REASONS),
  'LOCAL_CLOSE',
  'REMOTE_CLOSE',
  'PROTOCOL_ERROR',
  'WRITE_BUFFER_FULL',
])

/** How the session under test closed, when it did: a known reason, and a typed error with it. */
export function checkClose(info: CloseInfo): void {
  check(KNOWN_REASONS.has(info.reason), `closed for an unknown reason ${info.reason}`)
  // A local handler's own failure is passed through as it is; every other error is ours and typed.
  if (info.error && info.reason !== PEER_CLOSE_REASONS.INTERNAL_ERROR)
    check(
      info.error instanceof ChronosError,
      `closed for ${info.reason} with untyped ${describe(info.error)}`,
    )
}

/** Everything we sent must be a message the codec accepts. */
export function checkSent(sent: readonly Message[]): void {
  for (const m of sent) {
    try {
      messageFromJson(JSON.parse(JSON.stringify(m)))
    } catch (error) {
      throw new Error(`we sent ${m.code} that the codec refuses: ${describe(error)}`)
    }
  }
}

export const turn = () => new Promise<void>((resolve) => setImmediate(resolve))
