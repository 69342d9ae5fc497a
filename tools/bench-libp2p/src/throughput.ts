// Two nodes, one long-lived link each, N messages of one size: a Chronos TCP
// Connection (frame, encode, decode, schema-validate) against a libp2p
// stream (TCP + noise + yamux) carrying the same Chronos frames, encoded per
// message and decoded and validated by the same MessageDecoder on arrival.
// Both sides therefore do the same application work; what differs is the
// transport under it. Set-up (dial, handshakes, stream negotiation) is
// outside the timed part.
import { encodeFrame, type Message, MessageDecoder } from '@chronos/codec'
import { type Connection, tcpTransport } from '@chronos/transport'
import { pushable } from 'it-pushable'
import { createLibp2p } from 'libp2p'
import { libp2pBase } from './libp2p-options.js'

const PROTOCOL = '/chronos-bench/frames/1.0.0'

/** A NEW_BLOCK message whose JSON body is `bytes` long (padding in one transaction). */
export function messageOfSize(bytes: number): Message {
  const make = (pad: string): Message => ({
    code: 'NEW_BLOCK',
    data: {
      block_header: {
        height: 1,
        prev_hash: '0'.repeat(64),
        timestamp: 1,
        tx_root: '0'.repeat(64),
        producer: 'bench',
        hash: '0'.repeat(64),
      },
      transactions: [{ pad }],
    },
  })
  const overhead = Buffer.byteLength(JSON.stringify(make('')))
  return make('x'.repeat(Math.max(0, bytes - overhead)))
}

export interface Link {
  /** Sends `count` messages and resolves when the other side has decoded all of them. */
  send(message: Message, count: number): Promise<void>
  close(): Promise<void>
}

export async function chronosLink(): Promise<Link> {
  const transport = tcpTransport({ highWaterMarkBytes: 4 * 1024 * 1024, idleTimeoutMs: 0 })
  let accept!: (c: Connection) => void
  const accepted = new Promise<Connection>((resolve) => (accept = resolve))
  const listener = await transport.listen('127.0.0.1:0', accept)
  const client = await transport.dial(listener.address)
  const server = await accepted
  let received = 0
  let onMessage = () => {}
  server.on('message', () => {
    received++
    onMessage()
  })
  return {
    async send(message, count) {
      received = 0
      const done = new Promise<void>((resolve) => {
        onMessage = () => received === count && resolve()
      })
      for (let i = 0; i < count; i++) if (!client.send(message)) await client.drained()
      await done
    },
    async close() {
      client.close()
      await listener.close()
    },
  }
}

export async function libp2pLink(): Promise<Link> {
  const [a, b] = await Promise.all([createLibp2p(libp2pBase()), createLibp2p(libp2pBase())])
  let received = 0
  let onMessage = () => {}
  const decoder = new MessageDecoder()
  await b.handle(PROTOCOL, async ({ stream }) => {
    for await (const chunk of stream.source)
      for (const part of chunk) {
        decoder.push(part, () => {
          received++
          onMessage()
        })
      }
  })
  const stream = await a.dialProtocol(b.getMultiaddrs()[0]!, PROTOCOL)
  const outgoing = pushable<Uint8Array>()
  const sinking = stream.sink(outgoing)
  return {
    async send(message, count) {
      received = 0
      const done = new Promise<void>((resolve) => {
        onMessage = () => received === count && resolve()
      })
      // Hold at most ~4 MiB queued, as the Connection's high-water mark does.
      let queued = 0
      for (let i = 0; i < count; i++) {
        const frame = encodeFrame(message)
        outgoing.push(frame)
        queued += frame.byteLength
        if (queued >= 4 * 1024 * 1024) {
          await outgoing.onEmpty()
          queued = 0
        }
      }
      await done
    },
    async close() {
      outgoing.end()
      await sinking.catch(() => {})
      await Promise.all([a.stop(), b.stop()])
    },
  }
}
