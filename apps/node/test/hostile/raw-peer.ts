// A raw TCP peer that can send anything: bytes, frames of any body, or
// protocol messages. It reads what the node sends back with the codec's
// decoder, and can stop reading altogether. It either dials the node (a
// hostile Client) or waits for the node to dial it (a hostile Server).
import { connect, createServer, type Socket } from 'node:net'
import { type Message, MessageDecoder } from '@chronos/codec'

export function frameOf(body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  const header = Buffer.alloc(4)
  header.writeUInt32BE(bytes.length)
  return Buffer.concat([header, bytes])
}

export const jsonFrame = (value: unknown) => frameOf(JSON.stringify(value))

export class RawPeer {
  readonly received: Message[] = []
  readonly closed: Promise<void>
  private readonly decoder = new MessageDecoder()
  private waiters: (() => void)[] = []

  /** Our end, as the node sees it (kept: a closed socket forgets it). */
  readonly localAddress: string
  /** The node's end. */
  readonly remoteAddress: string
  /** The Status address this peer claims (set by whoever opened it). */
  claimed: string | undefined

  private constructor(readonly socket: Socket) {
    this.localAddress = `${socket.localAddress}:${socket.localPort}`
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`
    socket.on('data', (chunk) => {
      try {
        this.decoder.push(chunk, (message) => this.received.push(message))
      } catch {
        socket.destroy()
      }
      for (const wake of this.waiters.splice(0)) wake()
    })
    socket.on('error', () => {})
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    void this.closed.then(() => {
      for (const wake of this.waiters.splice(0)) wake()
    })
  }

  static connect(address: string, localAddress = '127.0.0.1'): Promise<RawPeer> {
    const [host, port] = [
      address.slice(0, address.lastIndexOf(':')),
      Number(address.slice(address.lastIndexOf(':') + 1)),
    ]
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, localAddress })
      socket.once('connect', () => resolve(new RawPeer(socket)))
      socket.once('error', reject)
    })
  }

  /**
   * Listens on loopback for one connection from the node: `address` is
   * what to make it dial; `accepted` resolves with our end once it has.
   */
  static async listen(): Promise<{ address: string; accepted: Promise<RawPeer> }> {
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const { port } = server.address() as { port: number }
    const accepted = new Promise<RawPeer>((resolve) =>
      server.once('connection', (socket) => {
        server.close()
        resolve(new RawPeer(socket))
      }),
    )
    return { address: `127.0.0.1:${port}`, accepted }
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readyState === 'closed'
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes)
  }

  send(message: unknown): void {
    this.write(jsonFrame(message))
  }

  /** Stops reading: the node's writes back up in its own buffers. */
  stopReading(): void {
    this.socket.pause()
  }

  /** The next message with `code`, or undefined if the connection closes (or `timeoutMs` passes) first. */
  async next(code: string, timeoutMs?: number): Promise<Message | undefined> {
    let expired = false
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            expired = true
            for (const wake of this.waiters.splice(0)) wake()
          }, timeoutMs)
    try {
      for (;;) {
        const index = this.received.findIndex((m) => m.code === code)
        if (index >= 0) return this.received.splice(index, 1)[0]
        if (this.isClosed || expired) return undefined
        await new Promise<void>((resolve) => this.waiters.push(resolve))
      }
    } finally {
      clearTimeout(timer)
    }
  }

  close(): void {
    this.socket.destroy()
  }
}
