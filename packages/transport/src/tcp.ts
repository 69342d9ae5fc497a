/** TCP transport on node:net: length-prefixed frames, IPv4 and IPv6. */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { formatAddress, parseAddress } from '@chronos/codec'
import { attemptDial } from './dial-attempt.js'
import { DialError, InvalidAddressError, ListenError } from './errors.js'
import { InboundConnections } from './inbound-limiter.js'
import { StreamSocketConnection } from './stream-connection.js'
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

/** `::ffff:1.2.3.4` is 1.2.3.4: one host, whichever socket family it came in on. */
export function normaliseHost(host: string | undefined): string {
  if (!host) return 'unknown'
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host
}

const socketAddress = (host: string | undefined, port: number | undefined) =>
  formatAddress(normaliseHost(host), port ?? 0)

function tcpConnection(
  socket: Socket,
  direction: Direction,
  options: ResolvedTransportOptions,
  localAddress = socketAddress(socket.localAddress, socket.localPort),
): StreamSocketConnection {
  socket.setNoDelay(true)
  return new StreamSocketConnection(socket, {
    transport: 'tcp',
    direction,
    localAddress,
    remoteAddress: socketAddress(socket.remoteAddress, socket.remotePort),
    options,
  })
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
        succeed(tcpConnection(socket, 'outbound', this.options))
      })
      return () => socket.destroy()
    })
  }

  async listen(address: string, onConnection: (connection: Connection) => void): Promise<Listener> {
    const target = parseAddress(address)
    if (!target) throw new InvalidAddressError(address)
    const server = createServer()
    const inbound = new InboundConnections<StreamSocketConnection>(
      this.options,
      this.options.logger,
    )
    let boundAddress = address

    server.on('connection', (socket) => {
      const host = normaliseHost(socket.remoteAddress)
      if (!inbound.admit(host, socketAddress(socket.remoteAddress, socket.remotePort))) {
        socket.destroy()
        return
      }
      const connection = tcpConnection(socket, 'inbound', this.options, boundAddress)
      inbound.track(connection, host)
      onConnection(connection)
    })

    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new ListenError(address, error)))
      server.listen({ host: target.host, port: target.port }, () => resolve())
    })
    const bound = server.address()
    // Inbound connections report the listener's address as theirs (the contract), even on 0.0.0.0.
    boundAddress =
      typeof bound === 'object' && bound ? formatAddress(bound.address, bound.port) : address
    return new TcpListener(server, boundAddress, inbound)
  }
}

class TcpListener implements Listener {
  private closing: Promise<void> | undefined

  constructor(
    private readonly server: Server,
    readonly address: string,
    private readonly inbound: InboundConnections<StreamSocketConnection>,
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
