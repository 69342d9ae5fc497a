// `pnpm bench` for the TCP transport: N messages through a Connection
// (encode, frame, decode, validate, deliver) against bare node:net sockets
// piping the same frame bytes on loopback, in the same run.
import { once } from 'node:events'
import { createServer, connect as netConnect, type Socket } from 'node:net'
import { type Comparison, compareAsync, printTable, writeResults } from '@chronos/bench-kit'
import { encodeFrame } from '@chronos/codec'
import { messageOfSize } from '../src/compliance.js'
import { type Connection, tcpTransport } from '../src/index.js'

const LOOPBACK = '127.0.0.1'

async function viaConnection(bodyBytes: number, count: number): Promise<void> {
  const message = messageOfSize(bodyBytes)
  const transport = tcpTransport({ highWaterMarkBytes: 4 * 1024 * 1024, idleTimeoutMs: 0 })
  let accept!: (c: Connection) => void
  const accepted = new Promise<Connection>((resolve) => (accept = resolve))
  const listener = await transport.listen(`${LOOPBACK}:0`, accept)
  const client = await transport.dial(listener.address)
  const server = await accepted
  let received = 0
  const done = new Promise<void>((resolve) =>
    server.on('message', () => {
      if (++received === count) resolve()
    }),
  )
  for (let i = 0; i < count; i++) if (!client.send(message)) await client.drained()
  await done
  client.close()
  await listener.close()
}

async function viaRawSockets(bodyBytes: number, count: number): Promise<void> {
  const frame = encodeFrame(messageOfSize(bodyBytes))
  const total = frame.byteLength * count
  const server = createServer()
  server.listen(0, LOOPBACK)
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const client = netConnect({ host: LOOPBACK, port })
  await once(client, 'connect')
  const [socket] = await accepted
  let received = 0
  const done = new Promise<void>((resolve) =>
    socket.on('data', (chunk: Buffer) => {
      received += chunk.byteLength
      if (received >= total) resolve()
    }),
  )
  for (let i = 0; i < count; i++) if (!client.write(frame)) await once(client, 'drain')
  await done
  client.destroy()
  socket.destroy()
  server.close()
}

const cases: [string, number, number][] = [
  ['tcp_vs_raw_socket_1kib', 1024, 20_000],
  ['tcp_vs_raw_socket_1mib', 1024 * 1024, 200],
]
const rows: Comparison[] = []
for (const [name, size, count] of cases) {
  rows.push(
    await compareAsync(
      name,
      () => viaConnection(size, count),
      `bare node:net, same bytes`,
      () => viaRawSockets(size, count),
      {
        rounds: 7,
        goal: 1.5,
        // Both ends are in this process; the kernel's loopback work is our system time.
        clock: 'cpu',
      },
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
