// TCP specifics the compliance suite cannot express: IPv6, raw bytes from a
// hostile peer, a frame that never completes, refusal log lines.
import { connect, type Socket } from 'node:net'
import { encodeFrame, type Logger } from '@chronos/codec'
import { afterEach, describe, expect, it } from 'vitest'
import { runTransportCompliance } from '../src/compliance.js'
import { type Connection, type Listener, tcpTransport } from '../src/index.js'
import { openPartialTcpFrame } from './raw-tcp.js'

runTransportCompliance(
  'tcp (IPv6)',
  () => ({
    createTransport: (options) => tcpTransport(options),
    listenAddress: () => '[::1]:0',
    openPartialFrame: openPartialTcpFrame,
  }),
  { describe, it, afterEach },
)

function recordingLogger() {
  const lines: { level: string; object: Record<string, unknown>; message?: string }[] = []
  const at = (level: string) => (object: object, message?: string) =>
    lines.push({ level, object: object as Record<string, unknown>, message })
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  }
  return { logger, lines }
}

describe('tcp transport against raw sockets', () => {
  let listener: Listener | undefined
  const sockets: Socket[] = []
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy()
    await listener?.close()
  })

  async function serve(options = {}) {
    let accept!: (c: Connection) => void
    const accepted = new Promise<Connection>((resolve) => (accept = resolve))
    listener = await tcpTransport(options).listen('127.0.0.1:0', accept)
    const port = Number(listener.address.split(':').pop())
    const socket = connect({ host: '127.0.0.1', port })
    sockets.push(socket)
    await new Promise((resolve) => socket.once('connect', resolve))
    return { socket, server: await accepted }
  }

  /**
   * A connection to a listener of its own with `frameTimeoutMs`, sent the start of a frame
   * and nothing more; resolves with the server side's close (a frame timeout has passed).
   */
  async function frameTimeoutWitness(frameTimeoutMs: number) {
    let accept!: (c: Connection) => void
    const accepted = new Promise<Connection>((resolve) => (accept = resolve))
    const own = await tcpTransport({ frameTimeoutMs, idleTimeoutMs: 0 }).listen(
      '127.0.0.1:0',
      accept,
    )
    const socket = connect({ host: '127.0.0.1', port: Number(own.address.split(':').pop()) })
    sockets.push(socket)
    socket.write(encodeFrame({ code: 'PULL_BLOCK', data: 5 }).subarray(0, 6))
    const info = await (await accepted).closed
    await own.close()
    return info
  }

  const hostile: [string, Buffer, string][] = [
    ['bytes that are not JSON', Buffer.from('000000047b7b7b7b', 'hex'), 'INVALID_JSON'],
    ['a zero length', Buffer.from('00000000', 'hex'), 'FRAME_EMPTY'],
    ['a length over the limit', Buffer.from('00800001', 'hex'), 'FRAME_TOO_LARGE'],
    [
      'an unknown code',
      Buffer.from(
        encodeFrame({ code: 'PULL_BLOCK', data: 1 }).toString().replace('PULL_BLOCK', 'PULL_BLOCX'),
      ),
      'UNKNOWN_CODE',
    ],
  ]

  it.each(hostile)(
    'closes on %s with a typed protocol error, after delivering what came before',
    async (_, bad, code) => {
      const { socket, server } = await serve()
      const seen: unknown[] = []
      server.on('message', (m) => seen.push(m))
      socket.write(Buffer.concat([encodeFrame({ code: 'PULL_BLOCK', data: 5 }), bad]))
      const info = await server.closed
      expect(info).toMatchObject({ reason: 'PROTOCOL_ERROR', initiator: 'local', error: { code } })
      expect(seen).toEqual([{ code: 'PULL_BLOCK', data: 5 }])
      await new Promise((resolve) => socket.once('close', resolve))
    },
  )

  it('closes a connection whose frame stays incomplete (slow drip)', async () => {
    const { socket, server } = await serve({ frameTimeoutMs: 200, idleTimeoutMs: 0 })
    const frame = encodeFrame({ code: 'PULL_BLOCK', data: 5 })
    socket.write(frame.subarray(0, 6))
    expect(await server.closed).toMatchObject({ reason: 'FRAME_TIMEOUT' })
  })

  it('closes a connection that sends a frame header and then nothing', async () => {
    const { socket, server } = await serve({ frameTimeoutMs: 200, idleTimeoutMs: 0 })
    socket.write(encodeFrame({ code: 'PULL_BLOCK', data: 5 }).subarray(0, 4))
    expect(await server.closed).toMatchObject({ reason: 'FRAME_TIMEOUT' })
  })

  it('does not blame the peer for a frame left half-read while we paused reading', async () => {
    const { socket, server } = await serve({ frameTimeoutMs: 100, idleTimeoutMs: 0 })
    const frame = encodeFrame({ code: 'PULL_BLOCK', data: 5 })
    // One whole frame and the start of the next in one write; pause as the first is delivered.
    const first = new Promise((resolve) =>
      server.once('message', (m) => {
        server.pause()
        resolve(m)
      }),
    )
    socket.write(Buffer.concat([frame, frame.subarray(0, 6)]))
    await first
    // Three frame timeouts pass while we hold the connection paused: it must stay open.
    // The clock is a witness connection, not a sleep: each one left with half a frame,
    // opened after the pause, must itself be closed for FRAME_TIMEOUT first.
    for (let i = 0; i < 3; i++)
      expect(await frameTimeoutWitness(100)).toMatchObject({ reason: 'FRAME_TIMEOUT' })
    expect(server.status).toBe('open')
    const second = new Promise((resolve) => server.once('message', resolve))
    server.resume()
    socket.write(frame.subarray(6))
    expect(await second).toEqual({ code: 'PULL_BLOCK', data: 5 })
  })

  it('logs each refused inbound connection with its address and a reason code', async () => {
    const { logger, lines } = recordingLogger()
    const { socket } = await serve({ maxInboundConnections: 1, logger })
    const port = Number(listener!.address.split(':').pop())
    const extra = connect({ host: '127.0.0.1', port })
    sockets.push(extra)
    await new Promise((resolve) => extra.once('close', resolve))
    expect(lines).toContainEqual({
      level: 'warn',
      object: { remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/), reason: 'INBOUND_LIMIT' },
      message: 'inbound connection refused',
    })
    expect(socket.destroyed).toBe(false)
  })

  it('rejects a dial to a port nobody listens on with DIAL_FAILED', async () => {
    const probe = await tcpTransport().listen('127.0.0.1:0', () => {})
    const address = probe.address
    await probe.close()
    await expect(tcpTransport().dial(address)).rejects.toMatchObject({ code: 'DIAL_FAILED' })
    await expect(tcpTransport().dial('not-an-address')).rejects.toMatchObject({
      code: 'INVALID_ADDRESS',
    })
  })

  it('an inbound connection on a wildcard listener reports the listener address as its local one', async () => {
    let accept!: (c: Connection) => void
    const accepted = new Promise<Connection>((resolve) => (accept = resolve))
    listener = await tcpTransport().listen('0.0.0.0:0', accept)
    expect(listener.address).toMatch(/^0\.0\.0\.0:\d+$/)
    const port = Number(listener.address.split(':').pop())
    const client = await tcpTransport().dial(`127.0.0.1:${port}`)
    const server = await accepted
    expect(server.localAddress).toBe(listener.address)
    expect(client.remoteAddress).toBe(`127.0.0.1:${port}`)
    client.close()
    await server.closed
  })
})
