// One side of the transport benchmark in a process of its own, so that its
// garbage collection and kernel time are billed to it alone: `connection`
// sends messages through a TCP Connection pair, `raw` the same frame bytes
// through bare node:net sockets, both on loopback. Steps: open (connect),
// step (send `perStep` messages and wait until all arrived), close.
import { once } from 'node:events'
import { createServer, connect as netConnect, type Socket } from 'node:net'
import { type InterleavedSide, serveBenchWorker } from '@chronos/bench-kit'
import { encodeFrame } from '@chronos/codec'
import { messageOfSize } from '../src/compliance.js'
import { type Connection, tcpTransport } from '../src/index.js'

const LOOPBACK = '127.0.0.1'

/** A Connection pair on loopback; each step sends `perStep` messages and waits for all of them. */
async function viaConnection(bodyBytes: number, perStep: number): Promise<InterleavedSide> {
  const message = messageOfSize(bodyBytes)
  const transport = tcpTransport({ highWaterMarkBytes: 4 * 1024 * 1024, idleTimeoutMs: 0 })
  let accept!: (c: Connection) => void
  const accepted = new Promise<Connection>((resolve) => (accept = resolve))
  const listener = await transport.listen(`${LOOPBACK}:0`, accept)
  const client = await transport.dial(listener.address)
  const server = await accepted
  let received = 0
  let target = 0
  let arrived = () => {}
  server.on('message', () => {
    if (++received === target) arrived()
  })
  return {
    async step() {
      target += perStep
      const done = new Promise<void>((resolve) => (arrived = resolve))
      for (let i = 0; i < perStep; i++) if (!client.send(message)) await client.drained()
      await done
    },
    async close() {
      client.close()
      await listener.close()
    },
  }
}

/** Bare node:net sockets on loopback; each step writes the same frame bytes and waits for them. */
async function viaRawSockets(bodyBytes: number, perStep: number): Promise<InterleavedSide> {
  const frame = encodeFrame(messageOfSize(bodyBytes))
  const server = createServer()
  server.listen(0, LOOPBACK)
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const client = netConnect({ host: LOOPBACK, port })
  await once(client, 'connect')
  const [socket] = await accepted
  let received = 0
  let target = 0
  let arrived = () => {}
  socket.on('data', (chunk: Buffer) => {
    received += chunk.byteLength
    if (received >= target) arrived()
  })
  return {
    async step() {
      target += frame.byteLength * perStep
      const done = new Promise<void>((resolve) => (arrived = resolve))
      for (let i = 0; i < perStep; i++) if (!client.write(frame)) await once(client, 'drain')
      await done
    },
    async close() {
      client.destroy()
      socket.destroy()
      server.close()
    },
  }
}

let side: InterleavedSide | undefined
serveBenchWorker({
  async open(role: 'connection' | 'raw', bodyBytes: number, perStep: number) {
    side = await (role === 'connection' ? viaConnection : viaRawSockets)(bodyBytes, perStep)
  },
  step: () => side!.step(0),
  async close() {
    await side!.close?.()
    side = undefined
  },
})
