/** TCP transport on node:net: length-prefixed frames, IPv4 and IPv6. */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import {
  decodeMessage,
  encodeFrame,
  FrameDecoder,
  formatAddress,
  type Message,
  parseAddress,
} from '@chronos/codec'
import { AbstractConnection } from './abstract-connection.js'
import { BUFFER_BUDGET_EXCEEDED } from './buffer-budget.js'
import { attemptDial } from './dial-attempt.js'
import { DialError, InvalidAddressError, ListenError } from './errors.js'
import { InboundConnections } from './inbound-limiter.js'
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

/** A graceful close that the peer never acknowledges is forced after this long. */
const CLOSE_GRACE_MS = 5_000

/** `::ffff:1.2.3.4` is 1.2.3.4: one host, whichever socket family it came in on. */
export function normaliseHost(host: string | undefined): string {
  if (!host) return 'unknown'
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host
}

const socketAddress = (host: string | undefined, port: number | undefined) =>
  formatAddress(normaliseHost(host), port ?? 0)

export class TcpConnection extends AbstractConnection {
  private readonly socket: Socket
  private readonly decoder: FrameDecoder
  private frameTimer: NodeJS.Timeout | undefined
  private readingPaused = false
  private graceTimer: NodeJS.Timeout | undefined

  constructor(socket: Socket, direction: Direction, options: ResolvedTransportOptions) {
    super({
      transport: 'tcp',
      direction,
      localAddress: socketAddress(socket.localAddress, socket.localPort),
      remoteAddress: socketAddress(socket.remoteAddress, socket.remotePort),
      options,
    })
    this.socket = socket
    this.decoder = new FrameDecoder({ maxBodyBytes: options.maxBodyBytes })
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('drain', () => {
      this.account()
      this.bufferShrank()
    })
    socket.on('error', (error) => this.remoteClosed('TRANSPORT_ERROR', error))
    socket.on('close', () => {
      options.bufferBudget.release(this)
      clearTimeout(this.graceTimer)
      this.remoteClosed('REMOTE_CLOSE')
    })
  }

  get bufferedBytes(): number {
    return this.socket.writableLength
  }

  protected write(message: Message): void {
    this.socket.write(encodeFrame(message, { maxBodyBytes: this.options.maxBodyBytes }))
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

export class TcpTransport implements Transport {
  readonly name = 'tcp'
  private readonly options: ResolvedTransportOptions

  constructor(options: TransportOptions = {}) {
    this.options = resolveOptions(options)
  }

  dial(address: string, { signal }: DialOptions = {}): Promise<Connection> {
    const target = parseAddress(address)
    if (!target) return Promise.reject(new InvalidAddressError(address))
    return attemptDial(address, signal, this.options.dialTimeoutMs, (succeed, fail) => {
      const socket = netConnect({ host: target.host, port: target.port })
      const onError = (error: Error) => fail(new DialError(address, error))
      socket.once('error', onError)
      socket.once('connect', () => {
        socket.off('error', onError)
        succeed(new TcpConnection(socket, 'outbound', this.options))
      })
      return () => socket.destroy()
    })
  }

  async listen(address: string, onConnection: (connection: Connection) => void): Promise<Listener> {
    const target = parseAddress(address)
    if (!target) throw new InvalidAddressError(address)
    const server = createServer()
    const inbound = new InboundConnections<TcpConnection>(this.options, this.options.logger)

    server.on('connection', (socket) => {
      const host = normaliseHost(socket.remoteAddress)
      if (!inbound.admit(host, socketAddress(socket.remoteAddress, socket.remotePort))) {
        socket.destroy()
        return
      }
      const connection = new TcpConnection(socket, 'inbound', this.options)
      inbound.track(connection, host)
      onConnection(connection)
    })

    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new ListenError(address, error)))
      server.listen({ host: target.host, port: target.port }, () => resolve())
    })
    const bound = server.address()
    const boundAddress =
      typeof bound === 'object' && bound ? formatAddress(bound.address, bound.port) : address
    return new TcpListener(server, boundAddress, inbound)
  }
}

class TcpListener implements Listener {
  private closing: Promise<void> | undefined

  constructor(
    private readonly server: Server,
    readonly address: string,
    private readonly inbound: InboundConnections<TcpConnection>,
  ) {}

  get connectionCount(): number {
    return this.inbound.size
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      void this.inbound.closeAll()
    })
    return this.closing
  }
}

/** Creates the TCP transport: `tcpTransport({ maxBodyBytes, idleTimeoutMs, logger, ... })`. */
export function tcpTransport(options: TransportOptions = {}): Transport {
  return new TcpTransport(options)
}
