import { EventEmitter } from 'node:events'
import {
  type Block,
  createNonce,
  handshakeTranscript,
  type Message,
  type PeerEntry,
  type Status,
  verifySignature,
} from '@chronos/codec'
import type { CloseInfo, Connection } from '@chronos/transport'
import {
  PeerGoneError,
  PeerProtocolError,
  PEER_CLOSE_REASONS as R,
  TooManyPendingError,
} from './errors.js'
import { checkBlock, checkStatus, refuse, type SessionContext } from './session-context.js'

/** What the Server answered to NEW_BLOCK_HASH. */
export type AnnounceAnswer = 'known' | 'wanted'

type Pending =
  | { code: 'SHAKEHAND'; sentAt: number; settle: Settle<Status> }
  | { code: 'PULL_BLOCK'; height: number; sentAt: number; settle: Settle<Block | null> }
  | { code: 'NEW_BLOCK_HASH'; hash: string; sentAt: number; settle: Settle<AnnounceAnswer> }
  | { code: 'GET_PEERS'; sentAt: number; settle: Settle<PeerEntry[]> }

interface Settle<T> {
  resolve(value: T): void
  reject(error: Error): void
}

/** What the opening handshake established (PROTOCOL.md section 11). */
export interface HandshakeResult {
  status: Status
  /** The key the Server proved, or undefined when it proved none (a 1.0 Server, or one without identity). */
  key: string | undefined
}

export interface HandshakeOptions {
  /** `KEY@host:port`: the Server must prove this key, else KEY_MISMATCH. */
  expectedKey?: string
}

export interface ClientSessionEvents {
  /** Each Status the Server sends back (the handshake's first, then each beat's). */
  status: [status: Status]
  close: [info: CloseInfo]
}

/**
 * Our side of an outbound connection: we are the Client. Requests are
 * pipelined and the Server answers in order (PROTOCOL.md section 1), so
 * each answer must match the oldest request still waiting; anything else
 * is a protocol error that closes the connection.
 */
export class ClientSession extends EventEmitter<ClientSessionEvents> {
  remoteStatus: Status | undefined
  /** Round-trip time of the last SHAKEHAND, ms. */
  rttMs: number | undefined
  /** The key the Server proved in the handshake, if any. */
  provenKey: string | undefined
  private readonly pending: Pending[] = []
  private head = 0
  private timer: NodeJS.Timeout | undefined
  private closeInfo: CloseInfo | undefined

  constructor(
    readonly connection: Connection,
    private readonly context: SessionContext,
  ) {
    super()
    connection.on('message', (message) => this.receive(message))
    void connection.closed.then((info) => this.closedWith(info))
  }

  get open(): boolean {
    return this.closeInfo === undefined && this.connection.status === 'open'
  }

  /** Requests sent and not yet answered. */
  get waiting(): number {
    return this.pending.length - this.head
  }

  /**
   * The opening handshake: our SHAKEHAND, the Server's answer, and with
   * identity (section 11) the proof of each side's key. Resolves with the
   * Server's Status and the key it proved; closes the connection with the
   * typed reason on any failure.
   */
  handshake(options: HandshakeOptions = {}): Promise<HandshakeResult> {
    const limit = this.context.limits.handshakeTimeoutMs
    const timer = setTimeout(
      () =>
        refuse(
          this.connection,
          R.HANDSHAKE_TIMEOUT,
          `handshake with ${this.connection.remoteAddress} not complete within ${limit} ms`,
        ),
      limit,
    )
    return this.prove(options).finally(() => clearTimeout(timer))
  }

  private async prove(options: HandshakeOptions): Promise<HandshakeResult> {
    const identity = this.context.identity
    const opening = this.context.localStatus(true)
    const nonce = identity ? (this.context.nonce ?? createNonce)() : undefined
    const first = identity ? { ...opening, key: identity.publicKey, nonce } : opening
    const status = await this.request<Status>(
      (settle, sentAt) => ({ code: 'SHAKEHAND', sentAt, settle }),
      { code: 'SHAKEHAND', data: first },
    )
    const proven =
      identity &&
      status.key !== undefined &&
      status.nonce !== undefined &&
      status.proof !== undefined
    if (!proven) {
      if (options.expectedKey !== undefined)
        return this.refuse(
          R.KEY_MISMATCH,
          `expected key ${options.expectedKey}, the Server proved none`,
        )
      if (this.context.requireIdentity)
        return this.refuse(R.IDENTITY_REQUIRED, 'the Server proves no node key and we require one')
      return { status, key: undefined }
    }
    const fields = {
      genesis: this.context.genesisHash ?? status.genesis ?? '',
      clientKey: identity.publicKey,
      clientNonce: nonce!,
      clientAddress: first.address,
      serverKey: status.key!,
      serverNonce: status.nonce!,
      serverAddress: status.address,
    }
    if (!verifySignature(status.key!, handshakeTranscript('server', fields), status.proof!))
      return this.refuse(R.BAD_PROOF, `the Server's proof of key ${status.key} does not verify`)
    if (options.expectedKey !== undefined && status.key !== options.expectedKey)
      return this.refuse(
        R.KEY_MISMATCH,
        `expected key ${options.expectedKey}, the Server proved ${status.key}`,
      )
    this.provenKey = status.key
    // Step 3: our proof; the Server answers it with its Status like any SHAKEHAND.
    const answer = await this.request<Status>(
      (settle, sentAt) => ({ code: 'SHAKEHAND', sentAt, settle }),
      {
        code: 'SHAKEHAND',
        data: {
          ...this.context.localStatus(false),
          key: identity.publicKey,
          proof: identity.sign(handshakeTranscript('client', fields)),
        },
      },
    )
    return { status: answer, key: status.key }
  }

  private refuse(reason: string, problem: string): never {
    refuse(this.connection, reason, problem)
    throw new PeerProtocolError(reason as never, problem)
  }

  /** The status beat: a SHAKEHAND, unless one is already waiting for its answer. */
  beat(): void {
    if (!this.open) return
    for (let i = this.head; i < this.pending.length; i++)
      if (this.pending[i]!.code === 'SHAKEHAND') return
    this.shakehand().catch(() => {})
  }

  /** A status beat's SHAKEHAND (after the handshake). */
  shakehand(): Promise<Status> {
    return this.request<Status>((settle, sentAt) => ({ code: 'SHAKEHAND', sentAt, settle }), {
      code: 'SHAKEHAND',
      data: this.context.localStatus(false),
    })
  }

  /** GET_PEERS (section 13): only to a Server whose latest Status listed the feature `peers`. */
  getPeers(): Promise<PeerEntry[]> {
    return this.request<PeerEntry[]>((settle, sentAt) => ({ code: 'GET_PEERS', sentAt, settle }), {
      code: 'GET_PEERS',
      data: null,
    })
  }

  /** PULL_BLOCK: the confirmed block at `height`, or null when the peer has none there. */
  pull(height: number): Promise<Block | null> {
    return this.request<Block | null>(
      (settle, sentAt) => ({ code: 'PULL_BLOCK', height, sentAt, settle }),
      { code: 'PULL_BLOCK', data: height },
    )
  }

  /** NEW_BLOCK_HASH: 'known' (BLOCK_KNOWN) or 'wanted' (GET_BLOCK; send the block next). */
  announce(hash: string): Promise<AnnounceAnswer> {
    return this.request<AnnounceAnswer>(
      (settle, sentAt) => ({ code: 'NEW_BLOCK_HASH', hash, sentAt, settle }),
      { code: 'NEW_BLOCK_HASH', data: hash },
    )
  }

  /** NEW_BLOCK: no answer. Returns false when the peer is not keeping up (see Connection.send). */
  sendBlock(block: Block): boolean {
    if (!this.open) return false
    return this.connection.send({ code: 'NEW_BLOCK', data: block })
  }

  close(reason: string, error?: Error): void {
    this.connection.close(reason, error)
  }

  private request<T>(
    entry: (settle: Settle<T>, sentAt: number) => Pending,
    message: Message,
  ): Promise<T> {
    if (this.closeInfo)
      return Promise.reject(new PeerGoneError(this.connection.remoteAddress, this.closeInfo.reason))
    const limit = this.context.limits.maxPendingRequests
    if (this.waiting >= limit)
      return Promise.reject(new TooManyPendingError(this.connection.remoteAddress, limit))
    return new Promise<T>((resolve, reject) => {
      this.pending.push(entry({ resolve, reject }, performance.now()))
      try {
        this.connection.send(message)
      } catch (error) {
        // The connection closed under us; closedWith rejects everything waiting.
        this.context.logger.debug({ error }, 'send failed')
      }
      this.armTimer()
    })
  }

  private receive(message: Message): void {
    try {
      this.handle(message)
    } catch (error) {
      // Ours, not the peer's (a listener of ours threw): never a strike against the Server.
      this.context.logger.error(
        { peer: this.connection.remoteAddress, err: (error as Error).message },
        'handling a message failed',
      )
      if (this.open) this.connection.close(R.INTERNAL_ERROR, error as Error)
    }
  }

  private handle(message: Message): void {
    if (!this.open) return
    const expected = this.pending[this.head]
    switch (message.code) {
      case 'PULL_BLOCK':
      case 'NEW_BLOCK':
      case 'NEW_BLOCK_HASH':
      case 'GET_PEERS': {
        refuse(
          this.connection,
          R.WRONG_ROLE,
          `a Server sent ${message.code}, which only a Client sends`,
        )
        return
      }
    }
    if (!expected) {
      refuse(this.connection, R.UNEXPECTED_ANSWER, `${message.code} with no request waiting`)
      return
    }
    switch (message.code) {
      case 'SHAKEHAND': {
        if (expected.code !== 'SHAKEHAND') {
          this.mismatch(expected, message.code)
          return
        }
        const problem = checkStatus(message.data, this.context)
        if (problem) {
          refuse(this.connection, problem.reason, problem.error ?? problem.message)
          return
        }
        const proven = this.provenKey
        if (proven !== undefined && message.data.key !== undefined && message.data.key !== proven) {
          refuse(
            this.connection,
            R.BAD_PROOF,
            `status names key ${message.data.key}, not the proven ${proven}`,
          )
          return
        }
        this.remoteStatus = message.data
        this.shift()
        this.rttMs = performance.now() - expected.sentAt
        expected.settle.resolve(message.data)
        this.emit('status', message.data)
        return
      }
      case 'PUSH_BLOCK': {
        if (expected.code !== 'PULL_BLOCK') {
          this.mismatch(expected, message.code)
          return
        }
        let block = message.data
        if (block) {
          const check = checkBlock(block, this.context)
          if (!check.ok) {
            refuse(this.connection, R.MALFORMED_BLOCK, `${check.reason}: ${check.message}`)
            return
          }
          block = check.block
          if (block.block_header.height !== expected.height) {
            refuse(
              this.connection,
              R.UNEXPECTED_ANSWER,
              `PUSH_BLOCK for height ${block.block_header.height} answered PULL_BLOCK ${expected.height}`,
            )
            return
          }
        }
        this.shift()
        expected.settle.resolve(block)
        return
      }
      case 'BLOCK_KNOWN':
      case 'GET_BLOCK': {
        if (expected.code !== 'NEW_BLOCK_HASH') {
          this.mismatch(expected, message.code)
          return
        }
        if (message.data !== expected.hash) {
          refuse(
            this.connection,
            R.UNEXPECTED_ANSWER,
            `${message.code} ${message.data} answered NEW_BLOCK_HASH ${expected.hash}`,
          )
          return
        }
        this.shift()
        expected.settle.resolve(message.code === 'BLOCK_KNOWN' ? 'known' : 'wanted')
        return
      }
      case 'PEERS': {
        if (expected.code !== 'GET_PEERS') {
          this.mismatch(expected, message.code)
          return
        }
        this.shift()
        expected.settle.resolve(message.data)
        return
      }
    }
  }

  private mismatch(expected: Pending, got: string): void {
    refuse(
      this.connection,
      R.UNEXPECTED_ANSWER,
      `${got} arrived while the oldest request is ${expected.code}`,
    )
  }

  private shift(): void {
    this.head++
    if (this.head > 64 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head)
      this.head = 0
    }
    clearTimeout(this.timer)
    this.timer = undefined
    this.armTimer()
  }

  /** One timer, for the oldest request: answers come in order, so it is the one that can stall. */
  private armTimer(): void {
    const oldest = this.pending[this.head]
    if (this.timer || !oldest || !this.open) return
    // The opening SHAKEHAND has its own deadline (handshake()), and its own reason.
    if (this.remoteStatus === undefined) return
    const limit = this.context.limits.requestTimeoutMs
    const left = Math.max(0, oldest.sentAt + limit - performance.now())
    this.timer = setTimeout(
      () => refuse(this.connection, R.REQUEST_TIMEOUT, `${oldest.code} unanswered for ${limit} ms`),
      left,
    )
  }

  private closedWith(info: CloseInfo): void {
    this.closeInfo = info
    clearTimeout(this.timer)
    this.timer = undefined
    const gone = new PeerGoneError(this.connection.remoteAddress, info.reason)
    for (let i = this.head; i < this.pending.length; i++) this.pending[i]!.settle.reject(gone)
    this.pending.length = 0
    this.head = 0
    this.emit('close', info)
  }
}
