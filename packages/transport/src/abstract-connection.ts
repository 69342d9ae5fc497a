/**
 * Owns what every transport's connection shares: the send-buffer
 * accounting (high-water mark, hard cap, drain), paused delivery, the idle
 * timer and close bookkeeping. A transport adds four primitives: write a
 * message, report buffered bytes, pause/resume reading, and tear down.
 */
import { EventEmitter } from 'node:events'
import type { Message } from '@chronos/codec'
import { ConnectionClosedError, WriteBufferFullError } from './errors.js'
import type {
  CloseInfo,
  CloseReason,
  Connection,
  ConnectionEvents,
  Direction,
  ResolvedTransportOptions,
} from './types.js'

let nextId = 0

export interface ConnectionInit {
  transport: string
  direction: Direction
  localAddress: string
  remoteAddress: string
  options: ResolvedTransportOptions
}

export abstract class AbstractConnection
  extends EventEmitter<ConnectionEvents>
  implements Connection
{
  readonly id: string
  readonly transport: string
  readonly direction: Direction
  readonly localAddress: string
  readonly remoteAddress: string
  readonly closed: Promise<CloseInfo>
  protected readonly options: ResolvedTransportOptions
  private state: 'open' | 'closed' = 'open'
  private resolveClosed!: (info: CloseInfo) => void
  private needsDrain = false
  private paused = false
  private readonly inbox: Message[] = []
  private idleTimer: NodeJS.Timeout | undefined
  private lastReceived = Date.now()

  constructor(init: ConnectionInit) {
    super()
    this.id = `${init.transport}-${++nextId}`
    this.transport = init.transport
    this.direction = init.direction
    this.localAddress = init.localAddress
    this.remoteAddress = init.remoteAddress
    this.options = init.options
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve
    })
    this.armIdleTimer(this.options.idleTimeoutMs)
  }

  get status(): 'open' | 'closed' {
    return this.state
  }

  abstract get bufferedBytes(): number

  /** Queues one message for the peer; the size check and framing are the transport's. */
  protected abstract write(message: Message): void
  protected abstract pauseReading(): void
  protected abstract resumeReading(): void
  /** Tears the connection down; `graceful` lets queued bytes flush first. */
  protected abstract teardown(graceful: boolean): void

  send(message: Message): boolean {
    if (this.state === 'closed') throw new ConnectionClosedError('closed before send')
    this.write(message)
    const buffered = this.bufferedBytes
    if (buffered > this.options.maxWriteBufferBytes) {
      const error = new WriteBufferFullError(buffered, this.options.maxWriteBufferBytes)
      this.close('WRITE_BUFFER_FULL', error)
      throw error
    }
    if (buffered >= this.options.highWaterMarkBytes) {
      this.needsDrain = true
      return false
    }
    return true
  }

  drained(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new ConnectionClosedError('closed'))
    if (!this.needsDrain) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.off('close', onClose)
        resolve()
      }
      const onClose = (info: CloseInfo) => {
        this.off('drain', onDrain)
        reject(new ConnectionClosedError(info.reason))
      }
      this.once('drain', onDrain)
      this.once('close', onClose)
    })
  }

  pause(): void {
    if (this.paused || this.state === 'closed') return
    this.paused = true
    this.pauseReading()
  }

  resume(): void {
    if (!this.paused || this.state === 'closed') return
    this.paused = false
    while (this.inbox.length > 0 && !this.paused && this.state === 'open')
      this.dispatch(this.inbox.shift()!)
    if (!this.paused) this.resumeReading()
  }

  close(reason: CloseReason = 'LOCAL_CLOSE', error?: Error): void {
    this.finish(
      { reason, initiator: 'local', error },
      reason === 'LOCAL_CLOSE' || reason === 'LISTENER_CLOSED',
    )
  }

  /** The transport reports that the peer or the network ended the connection. */
  protected remoteClosed(reason: CloseReason = 'REMOTE_CLOSE', error?: Error): void {
    this.finish({ reason, initiator: 'remote', error }, false)
  }

  /** The transport hands over a decoded message. */
  protected received(message: Message): void {
    if (this.state === 'closed') return
    this.lastReceived = Date.now()
    if (this.paused) this.inbox.push(message)
    else this.dispatch(message)
  }

  /** The transport saw bytes arrive (resets the idle timer even mid-frame). */
  protected touched(): void {
    this.lastReceived = Date.now()
  }

  /** The transport's buffer went down: emit `drain` if a sender is waiting for it. */
  protected bufferShrank(): void {
    if (
      this.needsDrain &&
      this.state === 'open' &&
      this.bufferedBytes < this.options.highWaterMarkBytes
    ) {
      this.needsDrain = false
      this.emit('drain')
    }
  }

  private dispatch(message: Message): void {
    this.emit('message', message)
  }

  private finish(info: CloseInfo, graceful: boolean): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    clearTimeout(this.idleTimer)
    this.idleTimer = undefined
    this.inbox.length = 0
    this.teardown(graceful)
    this.options.logger.debug(
      {
        connection: this.id,
        remote: this.remoteAddress,
        direction: this.direction,
        reason: info.reason,
        initiator: info.initiator,
        error: info.error?.message,
      },
      'connection closed',
    )
    this.emit('close', info)
    this.resolveClosed(info)
    this.removeAllListeners('message')
    this.removeAllListeners('drain')
  }

  private armIdleTimer(delay: number): void {
    if (this.options.idleTimeoutMs <= 0) return
    this.idleTimer = setTimeout(() => {
      const idle = Date.now() - this.lastReceived
      if (idle >= this.options.idleTimeoutMs) this.close('IDLE_TIMEOUT')
      else this.armIdleTimer(this.options.idleTimeoutMs - idle)
    }, delay)
    this.idleTimer.unref()
  }
}
