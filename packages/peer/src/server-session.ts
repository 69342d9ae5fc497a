import { EventEmitter } from 'node:events'
import {
  type Block,
  type BlockHeader,
  createNonce,
  handshakeTranscript,
  type Message,
  type Status,
  verifyHeaderHash,
  verifySignature,
} from '@chronos/codec'
import type { CloseInfo, Connection } from '@chronos/transport'
import type { AnnounceAnswer } from './client-session.js'
import { PEER_CLOSE_REASONS as R } from './errors.js'
import { checkBlock, checkStatus, refuse, type SessionContext } from './session-context.js'

/** What gossip says of a block after its header hash alone was checked. */
export type BlockScreen = 'accept' | 'ignore'

/** How the node answers a Client. Sync supplies `pull`; gossip supplies the rest. */
export interface ServerHandlers {
  /** The confirmed block at `height`, or null. */
  pull(height: number): Promise<Block | null> | Block | null
  /** A NEW_BLOCK, already checked well-formed. */
  newBlock(block: Block, from: ServerSession): void
  /** Decides BLOCK_KNOWN ('known') or GET_BLOCK ('wanted'); may take time (see gossip's fetch fallback). */
  newBlockHash(hash: string, from: ServerSession): Promise<AnnounceAnswer> | AnnounceAnswer
  /**
   * Called for a NEW_BLOCK whose header hash recomputes, before the costly
   * rest of the verification (seal, size, every transaction): 'ignore'
   * drops a block already known, refused or late at the cost of one hash.
   */
  screenBlock?(header: BlockHeader, from: ServerSession): BlockScreen
}

export interface ServerSessionEvents {
  /**
   * The Client is identified: after its first SHAKEHAND, or (identity
   * handshake) once its proof verified. `key` is the key it proved, if any.
   */
  identified: [status: Status, key: string | undefined]
  /** Each later SHAKEHAND the Client sends. */
  status: [status: Status]
  close: [info: CloseInfo]
}

/** Where the identity handshake of an inbound connection stands (PROTOCOL.md section 11). */
type Handshake =
  | { state: 'awaiting-status' }
  /** We proved our key; the Client's next message must be a SHAKEHAND proving `clientKey`. */
  | { state: 'awaiting-proof'; clientKey: string; transcript: string }
  | { state: 'identified'; key: string | undefined }

/**
 * One answer in FIFO order: still to be produced, being produced, or ready
 * to send. `holdsBlock` answers (PUSH_BLOCK) are what a Client that stops
 * reading could make us hold, so only `answerWindow` of them are produced
 * ahead; the others are small and start at once (a NEW_BLOCK_HASH answer
 * started late would also record the announcement late).
 */
type Answer = { holdsBlock: boolean } & (
  | { state: 'queued'; produce: () => Promise<Message> | Message }
  | { state: 'producing' }
  | { state: 'ready'; message: Message }
)

/**
 * Our side of an inbound connection: we are the Server. We answer the
 * requests that have an answer strictly in arrival order, even when a later
 * one is ready first. Answers are produced a few at a time and sent only
 * while the connection drains: a Client that stops reading holds at most
 * `answerWindow` answers of ours, then we stop reading from it, and if it
 * stays stalled for `writeStallTimeoutMs` we close it (SLOW_READER).
 */
export class ServerSession extends EventEmitter<ServerSessionEvents> {
  remoteStatus: Status | undefined
  /** When the Client last asked GET_PEERS (the PeerManager rate-limits its answers). */
  lastAskedAt: number | undefined
  private handshake: Handshake = { state: 'awaiting-status' }
  private readonly answers: Answer[] = []
  private producing = 0
  private blocked = false
  private readingPaused = false
  private closed = false
  private stallTimer: NodeJS.Timeout | undefined

  constructor(
    readonly connection: Connection,
    private readonly context: SessionContext,
    private readonly handlers: ServerHandlers,
  ) {
    super()
    connection.on('message', (message) => this.receive(message))
    connection.on('drain', () => {
      this.blocked = false
      clearTimeout(this.stallTimer)
      this.stallTimer = undefined
      this.pump()
    })
    void connection.closed.then((info) => {
      this.closed = true
      this.answers.length = 0
      clearTimeout(this.stallTimer)
      this.emit('close', info)
    })
    const limit = context.limits.handshakeTimeoutMs
    const timer = setTimeout(() => {
      if (this.handshake.state !== 'identified')
        refuse(
          this.connection,
          R.HANDSHAKE_TIMEOUT,
          `handshake not complete within ${limit} ms of connecting`,
        )
    }, limit)
    void connection.closed.then(() => clearTimeout(timer))
  }

  /** The address the Client says it accepts connections on. */
  get peerAddress(): string | undefined {
    return this.remoteStatus?.address
  }

  /** The Client's peer identity: the key it proved, else its Status address. */
  get peerId(): string | undefined {
    return this.provenKey ?? this.peerAddress
  }

  /** The key the Client proved on this connection, if any. */
  get provenKey(): string | undefined {
    return this.handshake.state === 'identified' ? this.handshake.key : undefined
  }

  /** Answers held (queued, being produced or ready): bounded by `maxPendingAnswers`. */
  get pendingAnswers(): number {
    return this.answers.length
  }

  close(reason: string, error?: Error): void {
    this.connection.close(reason, error)
  }

  private receive(message: Message): void {
    try {
      this.handle(message)
    } catch (error) {
      // Ours, not the peer's: a throw here would reach the transport as PROTOCOL_ERROR, a strike.
      this.context.logger.error(
        { peer: this.peerAddress, err: (error as Error).message },
        'handling a message failed',
      )
      if (this.connection.status === 'open') this.connection.close(R.INTERNAL_ERROR, error as Error)
    }
  }

  private handle(message: Message): void {
    if (this.closed || this.connection.status !== 'open') return
    if (this.handshake.state === 'awaiting-status' && message.code !== 'SHAKEHAND') {
      refuse(this.connection, R.REQUEST_BEFORE_SHAKEHAND, `${message.code} before SHAKEHAND`)
      return
    }
    if (this.handshake.state === 'awaiting-proof' && message.code !== 'SHAKEHAND') {
      refuse(this.connection, R.BAD_PROOF, `${message.code} before the Client proved its key`)
      return
    }
    switch (message.code) {
      case 'SHAKEHAND':
        this.shakehand(message.data)
        return
      case 'PULL_BLOCK': {
        const height = message.data
        this.answerLater(
          async () => ({ code: 'PUSH_BLOCK', data: await this.handlers.pull(height) }),
          true,
        )
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
        const block = message.data
        if (!verifyHeaderHash(block.block_header)) {
          refuse(
            this.connection,
            R.MALFORMED_BLOCK,
            `header hash of block ${block.block_header.hash} does not recompute`,
          )
          return
        }
        if (this.handlers.screenBlock?.(block.block_header, this) === 'ignore') return
        const check = checkBlock(block, this.context)
        if (!check.ok) {
          refuse(this.connection, R.MALFORMED_BLOCK, `${check.reason}: ${check.message}`)
          return
        }
        this.handlers.newBlock(check.block, this)
        return
      }
      case 'GET_PEERS': {
        const serve = this.context.peerExchange
        if (!serve) {
          refuse(
            this.connection,
            R.NOT_OFFERED,
            'GET_PEERS, but we did not offer the feature "peers"',
          )
          return
        }
        this.answer({ code: 'PEERS', data: serve(this) })
        return
      }
      default:
        refuse(
          this.connection,
          R.WRONG_ROLE,
          `a Client sent ${message.code}, which only a Server sends`,
        )
        return
    }
  }

  private shakehand(status: Status): void {
    const problem = checkStatus(status, this.context)
    if (problem) {
      refuse(this.connection, problem.reason, problem.error ?? problem.message)
      return
    }
    const handshake = this.handshake
    switch (handshake.state) {
      case 'awaiting-status': {
        this.remoteStatus = status
        const identity = this.context.identity
        if (identity && status.key !== undefined && status.nonce !== undefined) {
          // Step 2: prove our key over both opening Statuses; the Client proves its own next.
          const ours = {
            ...this.context.localStatus(true),
            key: identity.publicKey,
            nonce: createNonce(),
          }
          const fields = {
            genesis: this.context.genesisHash ?? status.genesis ?? '',
            clientKey: status.key,
            clientNonce: status.nonce,
            clientAddress: status.address,
            serverKey: identity.publicKey,
            serverNonce: ours.nonce,
            serverAddress: ours.address,
          }
          this.handshake = {
            state: 'awaiting-proof',
            clientKey: status.key,
            transcript: handshakeTranscript('client', fields),
          }
          this.answer({
            code: 'SHAKEHAND',
            data: { ...ours, proof: identity.sign(handshakeTranscript('server', fields)) },
          })
          return
        }
        if (this.context.requireIdentity) {
          refuse(
            this.connection,
            R.IDENTITY_REQUIRED,
            'the Client proves no node key and we require one',
          )
          return
        }
        this.identify(status, undefined)
        return
      }
      case 'awaiting-proof': {
        if (status.key !== handshake.clientKey) {
          refuse(
            this.connection,
            R.BAD_PROOF,
            `second SHAKEHAND names key ${status.key}, not ${handshake.clientKey}`,
          )
          return
        }
        if (
          status.proof === undefined ||
          !verifySignature(status.key, handshake.transcript, status.proof)
        ) {
          refuse(
            this.connection,
            R.BAD_PROOF,
            `the Client's proof of key ${status.key} does not verify`,
          )
          return
        }
        this.remoteStatus = status
        this.identify(status, status.key)
        return
      }
      case 'identified': {
        if (
          handshake.key !== undefined &&
          status.key !== undefined &&
          status.key !== handshake.key
        ) {
          refuse(
            this.connection,
            R.BAD_PROOF,
            `status beat names key ${status.key}, not the proven ${handshake.key}`,
          )
          return
        }
        this.remoteStatus = status
        this.answer({ code: 'SHAKEHAND', data: this.context.localStatus(false) })
        this.emit('status', status)
        return
      }
    }
  }

  private identify(status: Status, key: string | undefined): void {
    this.handshake = { state: 'identified', key }
    this.answer({ code: 'SHAKEHAND', data: this.context.localStatus(true) })
    this.emit('identified', status, key)
  }

  private answer(message: Message): void {
    this.enqueue({ state: 'ready', message, holdsBlock: false })
  }

  private answerLater(produce: () => Promise<Message>, holdsBlock = false): void {
    this.enqueue({ state: 'queued', produce, holdsBlock })
  }

  /** Every answer, ready or not, counts toward `maxPendingAnswers`: behind a slow one they all wait. */
  private enqueue(answer: Answer): void {
    this.answers.push(answer)
    if (this.answers.length >= this.context.limits.maxPendingAnswers) this.pauseReading()
    this.pump()
  }

  /**
   * Starts producing the oldest queued answers (at most `answerWindow` at
   * once, and only while the Client keeps up), then sends every answer that
   * is ready and has no unready one before it, until the connection pushes back.
   */
  private pump(): void {
    if (this.closed) return
    const window = this.context.limits.answerWindow
    let blocksHeld = 0
    for (let i = 0; i < this.answers.length; i++) {
      const slot = this.answers[i]!
      if (slot.state !== 'queued') {
        if (slot.holdsBlock) blocksHeld++
        continue
      }
      if (!slot.holdsBlock) this.start(i, slot)
      else if (blocksHeld < window && !this.blocked) {
        this.start(i, slot)
        blocksHeld++
      }
    }
    let sent = 0
    while (!this.blocked && sent < this.answers.length) {
      const slot = this.answers[sent]!
      if (slot.state !== 'ready') break
      sent++
      if (!this.send(slot.message)) break
    }
    if (sent) this.answers.splice(0, sent)
    if (this.closed) return
    if (sent && !this.blocked) {
      // Sending freed window slots: start the next answers that hold a block.
      if (this.answers.some((slot) => slot.state === 'queued')) this.pump()
    }
    if (
      this.readingPaused &&
      !this.blocked &&
      this.answers.length < this.context.limits.maxPendingAnswers / 2
    ) {
      this.readingPaused = false
      this.connection.resume()
    }
  }

  private start(index: number, queued: Extract<Answer, { state: 'queued' }>): void {
    const { produce, holdsBlock } = queued
    const slot: Answer = { state: 'producing', holdsBlock }
    this.answers[index] = slot
    this.producing++
    Promise.resolve()
      .then(produce)
      .then(
        (message) => {
          this.producing--
          Object.assign(slot, { state: 'ready', message })
          this.pump()
        },
        (error: Error) => {
          this.producing--
          this.context.logger.error(
            { peer: this.peerAddress, err: error.message },
            'answering a request failed',
          )
          this.connection.close(R.INTERNAL_ERROR, error)
        },
      )
  }

  /** Sends one answer; false when the connection pushes back (or failed, and is closing). */
  private send(message: Message): boolean {
    let keepsUp: boolean
    try {
      keepsUp = this.connection.send(message)
    } catch (error) {
      // WRITE_BUFFER_FULL closes the connection itself; anything else (an
      // answer over the frame limit) is ours, never the peer's, to survive.
      if (this.connection.status === 'open') this.connection.close(R.INTERNAL_ERROR, error as Error)
      return false
    }
    if (!keepsUp) this.stalled()
    return keepsUp
  }

  /** The Client is not taking what we send: stop reading it, and give it a deadline. */
  private stalled(): void {
    this.blocked = true
    this.pauseReading()
    const limit = this.context.limits.writeStallTimeoutMs
    this.stallTimer ??= setTimeout(
      () =>
        refuse(this.connection, R.SLOW_READER, `the Client took nothing we sent for ${limit} ms`),
      limit,
    )
    this.stallTimer.unref?.()
  }

  private pauseReading(): void {
    if (this.readingPaused) return
    this.readingPaused = true
    this.connection.pause()
  }
}
