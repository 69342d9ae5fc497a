/**
 * A connection over any byte-stream socket (`net.Socket`, `tls.TLSSocket`,
 * a Unix-domain socket, ...): the length-prefixed framing of PROTOCOL.md
 * section 2, the frame timeout and the graceful-close grace period. The TCP
 * transport is this class plus dialing and listening; a new stream
 * transport reuses it instead of copying it. What it holds (frames still
 * arriving plus the send buffer) counts against the transport's global
 * `bufferBudget`.
 */
import type { Duplex } from 'node:stream'
import { decodeMessage, encodeFrame, FrameDecoder, type Message } from '@chronos/codec'
import { AbstractConnection } from './abstract-connection.js'
import { BUFFER_BUDGET_EXCEEDED } from './buffer-budget.js'
import type { Direction, ResolvedTransportOptions } from './types.js'

/** A graceful close that the peer never acknowledges is forced after this long. */
export const CLOSE_GRACE_MS = 5_000

export interface StreamConnectionInit {
  /** The transport's name, which prefixes the connection id (`tcp`, `unix`, `tls`). */
  transport: string
  direction: Direction
  /** Our end, in the transport's address form (the listener's `address` on inbound connections). */
  localAddress: string
  /** The peer's end; on outbound connections the address that was dialled. */
  remoteAddress: string
  options: ResolvedTransportOptions
}

export class StreamSocketConnection extends AbstractConnection {
  private readonly decoder: FrameDecoder
  private frameTimer: NodeJS.Timeout | undefined
  private readingPaused = false
  private graceTimer: NodeJS.Timeout | undefined
  private corked = false
  /**
   * Writes of one tick go out in one `writev`: a Server releasing hundreds of
   * held answers at a round's end, or a relay fanning out, would otherwise
   * pay a syscall (and a loopback TCP send) per message on the event loop.
   */
  private readonly uncork = () => {
    this.corked = false
    this.socket.uncork()
  }
  /**
   * Write callbacks report every flushed chunk. Node's own `drain` comes only
   * after `write()` returned false, i.e. past the socket's 16 KiB mark: a
   * high-water mark below that would never see one.
   */
  private readonly flushed = () => {
    this.account()
    this.bufferShrank()
  }

  constructor(
    private readonly socket: Duplex,
    init: StreamConnectionInit,
  ) {
    super(init)
    this.decoder = new FrameDecoder({ maxBodyBytes: init.options.maxBodyBytes })
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('drain', this.flushed)
    socket.on('error', (error) => this.remoteClosed('TRANSPORT_ERROR', error))
    socket.on('close', () => {
      init.options.bufferBudget.release(this)
      clearTimeout(this.graceTimer)
      this.remoteClosed('REMOTE_CLOSE')
    })
  }

  get bufferedBytes(): number {
    return this.socket.writableLength
  }

  protected write(message: Message): void {
    if (!this.corked) {
      this.corked = true
      this.socket.cork()
      process.nextTick(this.uncork)
    }
    this.socket.write(
      encodeFrame(message, { maxBodyBytes: this.options.maxBodyBytes }),
      this.flushed,
    )
    const refused = this.account()
    if (refused) throw refused
  }

  /** Reports what this connection holds to the global budget; closes it if that is too much. */
  private account(): Error | undefined {
    if (this.status !== 'open') return undefined
    const held = this.decoder.bufferedBytes + this.socket.writableLength
    const refused = this.options.bufferBudget.update(this, held)
    if (refused) this.close(BUFFER_BUDGET_EXCEEDED, refused)
    return refused
  }

  protected pauseReading(): void {
    this.readingPaused = true
    this.socket.pause()
    // We chose to stop reading: a frame left half-read is not the peer's stall.
    clearTimeout(this.frameTimer)
    this.frameTimer = undefined
  }

  protected resumeReading(): void {
    this.readingPaused = false
    this.socket.resume()
    this.watchPartialFrame()
  }

  protected teardown(graceful: boolean): void {
    clearTimeout(this.frameTimer)
    if (!graceful || this.socket.destroyed) {
      this.socket.destroy()
      return
    }
    // Keep reading (and discarding) so the peer's FIN is seen even if we were paused.
    this.socket.resume()
    this.socket.end()
    this.graceTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS)
    this.graceTimer.unref()
  }

  private onData(chunk: Buffer): void {
    this.touched()
    try {
      this.decoder.push(chunk, (body) => this.received(decodeMessage(body)))
    } catch (error) {
      this.close('PROTOCOL_ERROR', error as Error)
      return
    }
    if (this.account()) return
    this.watchPartialFrame()
  }

  /** A frame may stay incomplete for frameTimeoutMs at most (slow-drip peers hold memory). */
  private watchPartialFrame(): void {
    if (!this.decoder.midFrame) {
      clearTimeout(this.frameTimer)
      this.frameTimer = undefined
    } else if (!this.frameTimer && !this.readingPaused && this.status === 'open') {
      this.frameTimer = setTimeout(() => this.close('FRAME_TIMEOUT'), this.options.frameTimeoutMs)
      this.frameTimer.unref()
    }
  }
}
