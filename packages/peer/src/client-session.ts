import { EventEmitter } from 'node:events'
import { type Block, type Message, type Status, verifyBlockHashes } from '@chronos/codec'
import type { CloseInfo, Connection } from '@chronos/transport'
import {
  PeerGoneError,
  PeerProtocolError,
  PEER_CLOSE_REASONS as R,
  TooManyPendingError,
} from './errors.js'
import type { SessionContext } from './session-context.js'

/** What the Server answered to NEW_BLOCK_HASH. */
export type AnnounceAnswer = 'known' | 'wanted'

type Pending =
  | { code: 'SHAKEHAND'; sentAt: number; settle: Settle<Status> }
  | { code: 'PULL_BLOCK'; height: number; sentAt: number; settle: Settle<Block | null> }
  | { code: 'NEW_BLOCK_HASH'; hash: string; sentAt: number; settle: Settle<AnnounceAnswer> }

interface Settle<T> {
  resolve(value: T): void
  reject(error: Error): void
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

  /** Sends the first SHAKEHAND and resolves with the Server's Status. */
  handshake(): Promise<Status> {
    const answer = this.shakehand(true)
    const limit = this.context.limits.handshakeTimeoutMs
    const timer = setTimeout(
      () =>
        this.fail(
          R.HANDSHAKE_TIMEOUT,
          `no SHAKEHAND answer within ${limit} ms from ${this.connection.remoteAddress}`,
        ),
      limit,
    )
    return answer.finally(() => clearTimeout(timer))
  }

  /** The status beat: a SHAKEHAND, unless one is already waiting for its answer. */
  beat(): void {
    if (!this.open) return
    for (let i = this.head; i < this.pending.length; i++)
      if (this.pending[i]!.code === 'SHAKEHAND') return
    this.shakehand().catch(() => {})
  }

  /** A SHAKEHAND; `opening` only for the first of the connection (handshake()). */
  shakehand(opening = false): Promise<Status> {
    return this.request<Status>((settle, sentAt) => ({ code: 'SHAKEHAND', sentAt, settle }), {
      code: 'SHAKEHAND',
      data: this.context.localStatus(opening),
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
    if (!this.open) return
    const expected = this.pending[this.head]
    switch (message.code) {
      case 'PULL_BLOCK':
      case 'NEW_BLOCK':
      case 'NEW_BLOCK_HASH': {
        this.fail(R.WRONG_ROLE, `a Server sent ${message.code}, which only a Client sends`)
        return
      }
    }
    if (!expected) {
      this.fail(R.UNEXPECTED_ANSWER, `${message.code} with no request waiting`)
      return
    }
    switch (message.code) {
      case 'SHAKEHAND': {
        if (expected.code !== 'SHAKEHAND') {
          this.mismatch(expected, message.code)
          return
        }
        if (
          message.data.genesis !== undefined &&
          this.context.genesisHash !== undefined &&
          message.data.genesis !== this.context.genesisHash
        ) {
          this.fail(
            R.GENESIS_MISMATCH,
            `peer genesis ${message.data.genesis} is not ours (${this.context.genesisHash})`,
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
        const block = message.data
        if (block) {
          const check = (this.context.verifyBlock ?? verifyBlockHashes)(block)
          if (!check.ok) {
            this.fail(R.MALFORMED_BLOCK, check.message)
            return
          }
          if (block.block_header.height !== expected.height) {
            this.fail(
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
          this.fail(
            R.UNEXPECTED_ANSWER,
            `${message.code} ${message.data} answered NEW_BLOCK_HASH ${expected.hash}`,
          )
          return
        }
        this.shift()
        expected.settle.resolve(message.code === 'BLOCK_KNOWN' ? 'known' : 'wanted')
        return
      }
    }
  }

  private mismatch(expected: Pending, got: string): void {
    this.fail(R.UNEXPECTED_ANSWER, `${got} arrived while the oldest request is ${expected.code}`)
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
      () => this.fail(R.REQUEST_TIMEOUT, `${oldest.code} unanswered for ${limit} ms`),
      left,
    )
  }

  private fail(reason: string, problem: string): void {
    this.connection.close(reason, new PeerProtocolError(reason as never, problem))
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
