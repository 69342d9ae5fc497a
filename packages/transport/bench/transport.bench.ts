// `pnpm bench` for the TCP transport: N messages through a Connection
// (encode, frame, decode, validate, deliver) against bare node:net sockets
// piping the same frame bytes on loopback, in the same run.
import { once } from 'node:events'
import { createServer, connect as netConnect, type Socket } from 'node:net'
import {
  type Comparison,
  compareInterleaved,
  type InterleavedSide,
  printTable,
  writeResults,
} from '@chronos/bench-kit'
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

const cases: [string, number, number][] = [
  ['tcp_vs_raw_socket_1kib', 1024, 20_000],
  ['tcp_vs_raw_socket_1mib', 1024 * 1024, 200],
]
// Each round sends `count` messages per side in STEPS interleaved steps (compareInterleaved), on
// connections opened for the round (set-up not timed). Both ends are in this process, one side
// active at a time: the kernel's loopback work is this process's system time.
const STEPS = 20
const rows: Comparison[] = []
for (const [name, size, count] of cases) {
  rows.push(
    await compareInterleaved(
      name,
      () => viaConnection(size, count / STEPS),
      'bare node:net, same bytes',
      () => viaRawSockets(size, count / STEPS),
      { steps: STEPS, rounds: 15, goal: 1.5 },
    ),
  )
}
printTable('transport: TCP Connection vs bare sockets on loopback', rows)
const [small, large] = rows
const summary = {
  tcp_vs_raw_socket: {
    '1KiB': Number(small!.ratio.toFixed(3)),
    '1MiB': Number(large!.ratio.toFixed(3)),
  },
}
console.log(
  `\nwrote ${writeResults('transport', rows, { ...summary, messages_1kib: 20_000, messages_1mib: 200 })}`,
)
