/**
 * WebSocket transport: a message-oriented transport, so each protocol body
 * travels as one text message with no length prefix (PROTOCOL.md section
 * 2). Built only on the `@chronos/transport` contract: proof that a
 * transport can be added without touching sync or gossip.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import {
  decodeMessage,
  encodeMessage,
  FrameTooLargeError,
  formatAddress,
  type Message,
  parseAddress,
} from '@chronos/codec'
import {
  BUFFER_BUDGET_EXCEEDED,
  type Connection,
  DialError,
  type DialOptions,
  type Direction,
  InvalidAddressError,
  ListenError,
  type Listener,
  type Transport,
  type TransportOptions,
} from '@chronos/transport'
import {
  AbstractConnection,
  attemptDial,
  InboundConnections,
  normaliseHost,
  type ResolvedTransportOptions,
  resolveOptions,
} from '@chronos/transport/kit'
import { type RawData, WebSocket, WebSocketServer } from 'ws'

const NORMAL_CLOSURE = 1000

const socketAddress = (host: string | undefined, port: number | undefined) =>
  formatAddress(normaliseHost(host), port ?? 0)

class WebSocketConnection extends AbstractConnection {
  /**
   * Called as each message is flushed to the socket. The socket's own
   * `drain` comes only past its 16 KiB mark, so a lower high-water mark
   * needs these to learn that the buffer went down. The global budget
   * hears of the smaller send buffer too (once closed, the budget has
   * released this connection: no figure may come back).
   */
  private readonly flushed = () => {
    if (this.status === 'open') this.options.bufferBudget.update(this, this.ws.bufferedAmount)
    this.bufferShrank()
  }

  constructor(
    private readonly ws: WebSocket,
    direction: Direction,
    localAddress: string,
    remoteAddress: string,
    options: ResolvedTransportOptions,
  ) {
    super({ transport: 'ws', direction, localAddress, remoteAddress, options })
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data as Buffer, isBinary))
    ws.on('close', () => {
      options.bufferBudget.release(this)
      this.remoteClosed('REMOTE_CLOSE')
    })
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        // ws reports only that the limit was passed, not by how much.
        this.close(
          'PROTOCOL_ERROR',
          new FrameTooLargeError(options.maxBodyBytes + 1, options.maxBodyBytes),
        )
      } else {
        this.remoteClosed('TRANSPORT_ERROR', error)
      }
    })
    const socket = (ws as unknown as { _socket?: Duplex })._socket
    socket?.on('drain', this.flushed)
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount
  }

  protected write(message: Message): void {
    const text = encodeMessage(message)
    const size = Buffer.byteLength(text)
    if (size > this.options.maxBodyBytes)
      throw new FrameTooLargeError(size, this.options.maxBodyBytes)
    this.ws.send(text, this.flushed)
    // The global budget (issue 10 item 3): ws buffers arriving frames itself, so only sends count.
    const refused = this.options.bufferBudget.update(this, this.ws.bufferedAmount)
    if (refused) {
      this.close(BUFFER_BUDGET_EXCEEDED, refused)
      throw refused
    }
  }

  protected pauseReading(): void {
    this.ws.pause()
  }

  protected resumeReading(): void {
    this.ws.resume()
  }

  protected teardown(graceful: boolean): void {
    if (graceful && this.ws.readyState === WebSocket.OPEN) {
      this.ws.resume()
      this.ws.close(NORMAL_CLOSURE)
    } else {
      this.ws.terminate()
    }
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.touched()
    let message: Message
    try {
      message = decodeMessage(isBinary ? data : data.toString('utf8'))
    } catch (error) {
      this.close('PROTOCOL_ERROR', error as Error)
      return
    }
    this.received(message)
  }
}

class WebSocketTransport implements Transport {
  readonly name = 'ws'
  private readonly options: ResolvedTransportOptions

  constructor(options: TransportOptions = {}) {
    this.options = resolveOptions(options)
  }

  dial(address: string, { signal }: DialOptions = {}): Promise<Connection> {
    const target = parseAddress(address)
    if (!target) return Promise.reject(new InvalidAddressError(address))
    return attemptDial(address, signal, this.options.dialTimeoutMs, (succeed, fail) => {
      const ws = new WebSocket(`ws://${formatAddress(target.host, target.port)}/`, {
        maxPayload: this.options.maxBodyBytes,
        perMessageDeflate: false,
      })
      const onError = (error: Error) => fail(new DialError(address, error))
      ws.once('error', onError)
      ws.once('open', () => {
        ws.off('error', onError)
        const socket = (ws as unknown as { _socket: { localAddress?: string; localPort?: number } })
          ._socket
        succeed(
          new WebSocketConnection(
            ws,
            'outbound',
            socketAddress(socket.localAddress, socket.localPort),
            address,
            this.options,
          ),
        )
      })
      return () => {
        ws.on('error', () => {}) // terminate() of a connecting socket reports one more error
        ws.terminate()
      }
    })
  }

  async listen(address: string, onConnection: (connection: Connection) => void): Promise<Listener> {
    const target = parseAddress(address)
    if (!target) throw new InvalidAddressError(address)
    const http = createServer((_, response) => response.writeHead(426).end('WebSocket only\n'))
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxBodyBytes,
      perMessageDeflate: false,
    })
    const inbound = new InboundConnections<WebSocketConnection>(this.options, this.options.logger)

    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const remote = socketAddress(request.socket.remoteAddress, request.socket.remotePort)
      const host = normaliseHost(request.socket.remoteAddress)
      if (!inbound.admit(host, remote)) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n')
        socket.destroy()
        return
      }
      // A failed upgrade never reaches the callback below: give its slot back.
      let upgraded = false
      socket.once('close', () => {
        if (!upgraded) inbound.release(host)
      })
      wss.handleUpgrade(request, socket, head, (ws) => {
        upgraded = true
        const connection = new WebSocketConnection(
          ws,
          'inbound',
          listenerAddress,
          remote,
          this.options,
        )
        inbound.track(connection, host)
        onConnection(connection)
      })
    })

    await new Promise<void>((resolve, reject) => {
      http.once('error', (error) => reject(new ListenError(address, error)))
      http.listen({ host: target.host, port: target.port }, () => resolve())
    })
    const bound = http.address()
    const listenerAddress =
      typeof bound === 'object' && bound ? formatAddress(bound.address, bound.port) : address
    return new WebSocketListener(http, wss, listenerAddress, inbound)
  }
}

class WebSocketListener implements Listener {
  private closing: Promise<void> | undefined

  constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    readonly address: string,
    private readonly inbound: InboundConnections<WebSocketConnection>,
  ) {}

  get connectionCount(): number {
    return this.inbound.size
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      void this.inbound.closeAll()
      this.wss.close()
      this.http.close(() => resolve())
      this.http.closeIdleConnections()
    })
    return this.closing
  }
}

/** Creates the WebSocket transport; takes the same options as every transport. */
export function webSocketTransport(options: TransportOptions = {}): Transport {
  return new WebSocketTransport(options)
}
