import { EventEmitter } from 'node:events'
import { type Block, type Message, type Status, verifyBlockHashes } from '@chronos/codec'
import type { CloseInfo, Connection } from '@chronos/transport'
import type { AnnounceAnswer } from './client-session.js'
import { PeerProtocolError, PEER_CLOSE_REASONS as R } from './errors.js'
import type { SessionContext } from './session-context.js'

/** How the node answers a Client. Sync supplies `pull`; gossip supplies the rest. */
export interface ServerHandlers {
  /** The confirmed block at `height`, or null. */
  pull(height: number): Promise<Block | null> | Block | null
  /** A NEW_BLOCK, already checked well-formed. */
  newBlock(block: Block, from: ServerSession): void
  /** Decides BLOCK_KNOWN ('known') or GET_BLOCK ('wanted'); may take time (see gossip's fetch fallback). */
  newBlockHash(hash: string, from: ServerSession): Promise<AnnounceAnswer> | AnnounceAnswer
}

export interface ServerSessionEvents {
  /** Each SHAKEHAND the Client sends; the first makes the session ready. */
  status: [status: Status]
  close: [info: CloseInfo]
}

interface Answer {
  message: Message | undefined
}

/**
 * Our side of an inbound connection: we are the Server. We answer the
 * requests that have an answer strictly in arrival order, even when a later
 * one is ready first; when too many answers are waiting, or the Client does
 * not take what we send, we stop reading from it instead of buffering more.
 */
export class ServerSession extends EventEmitter<ServerSessionEvents> {
  remoteStatus: Status | undefined
  private readonly answers: Answer[] = []
  private readingPaused = false
  private closed = false

  constructor(
    readonly connection: Connection,
    private readonly context: SessionContext,
    private readonly handlers: ServerHandlers,
  ) {
    super()
    connection.on('message', (message) => this.receive(message))
    connection.on('drain', () => this.flush())
    void connection.closed.then((info) => {
      this.closed = true
      this.answers.length = 0
      this.emit('close', info)
    })
    const limit = context.limits.handshakeTimeoutMs
    const timer = setTimeout(() => {
      if (!this.remoteStatus)
        this.fail(R.HANDSHAKE_TIMEOUT, `no SHAKEHAND within ${limit} ms of connecting`)
    }, limit)
    void connection.closed.then(() => clearTimeout(timer))
  }

  /** The address the Client says it accepts connections on (its peer identity). */
  get peerAddress(): string | undefined {
    return this.remoteStatus?.address
  }

  close(reason: string, error?: Error): void {
    this.connection.close(reason, error)
  }

  private receive(message: Message): void {
    if (this.closed || this.connection.status !== 'open') return
    if (!this.remoteStatus && message.code !== 'SHAKEHAND') {
      this.fail(R.REQUEST_BEFORE_SHAKEHAND, `${message.code} before SHAKEHAND`)
      return
    }
    switch (message.code) {
      case 'SHAKEHAND': {
        const status = message.data
        const ours = this.context.genesisHash
        if (status.genesis !== undefined && ours !== undefined && status.genesis !== ours) {
          this.fail(
            R.GENESIS_MISMATCH,
            `peer genesis ${status.genesis} is not ours (${this.context.genesisHash})`,
          )
          return
        }
        const opening = this.remoteStatus === undefined
        this.remoteStatus = status
        this.answer({ code: 'SHAKEHAND', data: this.context.localStatus(opening) })
        this.emit('status', status)
        return
      }
      case 'PULL_BLOCK': {
        this.answerLater(async () => ({
          code: 'PUSH_BLOCK',
          data: await this.handlers.pull(message.data),
        }))
        return
      }
      case 'NEW_BLOCK_HASH': {
        const hash = message.data
        this.answerLater(async () =>
          (await this.handlers.newBlockHash(hash, this)) === 'known'
            ? { code: 'BLOCK_KNOWN', data: hash }
            : { code: 'GET_BLOCK', data: hash },
        )
        return
      }
      case 'NEW_BLOCK': {
        const check = (this.context.verifyBlock ?? verifyBlockHashes)(message.data)
        if (!check.ok) {
          this.fail(R.MALFORMED_BLOCK, check.message)
          return
        }
        this.handlers.newBlock(message.data, this)
        return
      }
      default: {
        this.fail(R.WRONG_ROLE, `a Client sent ${message.code}, which only a Server sends`)
        return
      }
    }
  }

  private answer(message: Message): void {
    this.answers.push({ message })
    this.flush()
  }

  private answerLater(produce: () => Promise<Message>): void {
    const slot: Answer = { message: undefined }
    this.answers.push(slot)
    if (this.answers.length >= this.context.limits.maxPendingAnswers) this.pauseReading()
    produce().then(
      (message) => {
        slot.message = message
        this.flush()
      },
      (error: Error) => {
        this.context.logger.error(
          { peer: this.peerAddress, err: error },
          'answering a request failed',
        )
        this.connection.close(R.INTERNAL_ERROR, error)
      },
    )
  }

  /** Sends every answer that is ready and has no unready one before it. */
  private flush(): void {
    if (this.closed) return
    let sent = 0
    let keepsUp = true
    while (sent < this.answers.length && this.answers[sent]!.message) {
      keepsUp = this.connection.send(this.answers[sent]!.message!)
      sent++
      if (!keepsUp) break
    }
    if (sent) this.answers.splice(0, sent)
    if (!keepsUp) this.pauseReading()
    else if (
      this.readingPaused &&
      this.answers.length < this.context.limits.maxPendingAnswers / 2
    ) {
      this.readingPaused = false
      this.connection.resume()
    }
  }

  private pauseReading(): void {
    if (this.readingPaused) return
    this.readingPaused = true
    this.connection.pause()
  }

  private fail(reason: string, problem: string): void {
    this.connection.close(reason, new PeerProtocolError(reason as never, problem))
  }
}
