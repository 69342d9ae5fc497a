/**
 * `@chronos/transport/compliance`: one suite any Transport must pass.
 * Call it from a Vitest test file of the transport's package:
 *
 *   runTransportCompliance('tcp', () => ({
 *     createTransport: (options) => tcpTransport(options),
 *     listenAddress: () => '127.0.0.1:0',
 *   }))
 */
import type { Message } from '@chronos/codec'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Connection, Listener, Transport, TransportOptions } from './types.js'

export interface ComplianceSetup {
  createTransport(options?: TransportOptions): Transport
  /** An address to listen on; port 0 picks a free one. */
  listenAddress(): string
}

interface Pair {
  listener: Listener
  client: Connection
  server: Connection
}

const pull = (height: number): Message => ({ code: 'PULL_BLOCK', data: height })

/** A NEW_BLOCK whose encoded body is exactly `bytes` long. */
export function messageOfSize(bytes: number): Message {
  const make = (pad: string): Message => ({
    code: 'NEW_BLOCK',
    data: {
      block_header: {
        height: 1,
        prev_hash: '0'.repeat(64),
        timestamp: 1,
        tx_root: '0'.repeat(64),
        producer: 'compliance',
        hash: '0'.repeat(64),
      },
      transactions: [{ pad }],
    },
  })
  const base = JSON.stringify(make('')).length
  if (bytes < base) throw new RangeError(`smallest such message is ${base} bytes`)
  return make('x'.repeat(bytes - base))
}

function collect(connection: Connection, count: number): Promise<Message[]> {
  const seen: Message[] = []
  return new Promise((resolve, reject) => {
    connection.on('message', (message) => {
      seen.push(message)
      if (seen.length === count) resolve(seen)
    })
    connection.once('close', (info) => {
      if (seen.length < count)
        reject(new Error(`closed (${info.reason}) after ${seen.length} of ${count} messages`))
    })
  })
}

function closeAll(connections: Connection[]): Promise<unknown> {
  return Promise.all(
    connections.map((connection) => {
      connection.close()
      return connection.closed
    }),
  )
}

const nextMessage = (connection: Connection) => collect(connection, 1).then(([m]) => m!)

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TCPSocketWrap' || kind === 'TCPServerWrap' || kind === 'Timeout')
      counts[kind] = (counts[kind] ?? 0) + 1
  }
  return counts
}

/**
 * Waits until `condition` holds, yielding with setImmediate: unlike timers,
 * that adds nothing to the resources the leak test counts.
 */
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) return
    await new Promise((resolve) => setImmediate(resolve))
  }
}

const sameCounts = (a: Record<string, number>, b: Record<string, number>) =>
  JSON.stringify(a) === JSON.stringify(b)

export function runTransportCompliance(name: string, makeSetup: () => ComplianceSetup): void {
  describe(`transport compliance: ${name}`, () => {
    const setup = makeSetup()
    const cleanups: (() => Promise<unknown> | unknown)[] = []
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    })

    async function listen(
      options?: TransportOptions,
      onConnection: (c: Connection) => void = () => {},
    ) {
      const listener = await setup
        .createTransport(options)
        .listen(setup.listenAddress(), onConnection)
      cleanups.push(() => listener.close())
      return listener
    }

    async function pair(
      serverOptions?: TransportOptions,
      clientOptions?: TransportOptions,
    ): Promise<Pair> {
      let accept!: (c: Connection) => void
      const accepted = new Promise<Connection>((resolve) => (accept = resolve))
      const listener = await listen(serverOptions, accept)
      const client = await setup.createTransport(clientOptions).dial(listener.address)
      const server = await accepted
      cleanups.push(() => closeAll([client, server]))
      return { listener, client, server }
    }

    it('dials and accepts, knows directions and addresses, carries messages both ways', async () => {
      const { listener, client, server } = await pair()
      expect(client.direction).toBe('outbound')
      expect(server.direction).toBe('inbound')
      expect(client.remoteAddress).toBe(listener.address)
      expect(server.localAddress).toBe(listener.address)
      expect(client.status).toBe('open')
      const status: Message = {
        code: 'SHAKEHAND',
        data: { timestamp: 1, height: 2, address: '127.0.0.1:7001' },
      }
      const atServer = nextMessage(server)
      client.send(status)
      expect(await atServer).toEqual(status)
      const atClient = nextMessage(client)
      server.send({ code: 'PUSH_BLOCK', data: null })
      expect(await atClient).toEqual({ code: 'PUSH_BLOCK', data: null })
    })

    it('delivers 10,000 small messages in order', async () => {
      const { client, server } = await pair()
      const received = collect(server, 10_000)
      for (let i = 0; i < 10_000; i++) if (!client.send(pull(i))) await client.drained()
      const messages = await received
      expect(messages.map((m) => m.data)).toEqual(Array.from({ length: 10_000 }, (_, i) => i))
    })

    it('carries one message of exactly the maximum body size', async () => {
      const max = 8 * 1024 * 1024
      const { client, server } = await pair({ maxBodyBytes: max }, { maxBodyBytes: max })
      const message = messageOfSize(max)
      const received = nextMessage(server)
      client.send(message)
      expect(JSON.stringify(await received).length).toBe(max)
    })

    it('refuses to send a message over its own limit', async () => {
      const { client } = await pair(undefined, { maxBodyBytes: 1024 })
      expect(() => client.send(messageOfSize(2048))).toThrow(
        expect.objectContaining({ code: 'FRAME_TOO_LARGE' }),
      )
      expect(client.status).toBe('open')
    })

    it('closes on a message over the receiver limit, with a protocol error', async () => {
      const { client, server } = await pair({ maxBodyBytes: 1024 })
      client.send(messageOfSize(2048))
      const info = await server.closed
      expect(info.reason).toBe('PROTOCOL_ERROR')
      expect(info.error).toMatchObject({ code: 'FRAME_TOO_LARGE' })
      expect((await client.closed).initiator).toBe('remote')
    })

    it('signals backpressure when the peer does not read, then drains once it does', async () => {
      const options = { highWaterMarkBytes: 64 * 1024, maxWriteBufferBytes: 256 * 1024 * 1024 }
      const { client, server } = await pair(undefined, options)
      server.pause()
      const chunk = messageOfSize(16 * 1024)
      let sent = 0
      let accepted = true
      while (accepted && sent < 20_000) {
        accepted = client.send(chunk)
        sent++
      }
      expect(accepted).toBe(false)
      expect(client.bufferedBytes).toBeGreaterThanOrEqual(options.highWaterMarkBytes)
      const received = collect(server, sent)
      server.resume()
      await client.drained()
      expect((await received).length).toBe(sent)
    })

    it('closes a connection whose peer never reads before its buffer passes the cap', async () => {
      const cap = 1024 * 1024
      const { client, server } = await pair(undefined, {
        highWaterMarkBytes: 64 * 1024,
        maxWriteBufferBytes: cap,
      })
      server.pause()
      const chunk = messageOfSize(16 * 1024)
      let thrown: unknown
      for (let i = 0; i < 100_000 && thrown === undefined; i++) {
        try {
          client.send(chunk)
        } catch (error) {
          thrown = error
        }
      }
      expect(thrown).toMatchObject({ code: 'WRITE_BUFFER_FULL' })
      expect(await client.closed).toMatchObject({ reason: 'WRITE_BUFFER_FULL', initiator: 'local' })
      expect(client.bufferedBytes).toBeLessThanOrEqual(cap + 64 * 1024)
    })

    it('aborts a dial before it completes', async () => {
      const listener = await listen()
      const transport = setup.createTransport()
      const controller = new AbortController()
      const dialing = transport.dial(listener.address, { signal: controller.signal })
      controller.abort()
      await expect(dialing).rejects.toMatchObject({ code: 'ABORTED', name: 'AbortError' })
      await expect(
        transport.dial(listener.address, { signal: AbortSignal.abort() }),
      ).rejects.toMatchObject({
        code: 'ABORTED',
      })
    })

    for (const side of ['client', 'server'] as const) {
      it(`closes from the ${side} side; the other side learns it`, async () => {
        const p = await pair()
        const closer = p[side]
        const other = side === 'client' ? p.server : p.client
        closer.close()
        expect(await closer.closed).toMatchObject({ reason: 'LOCAL_CLOSE', initiator: 'local' })
        expect(await other.closed).toMatchObject({ initiator: 'remote' })
        expect(closer.status).toBe('closed')
        expect(() => closer.send(pull(1))).toThrow(
          expect.objectContaining({ code: 'CONNECTION_CLOSED' }),
        )
        await expect(closer.drained()).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' })
      })
    }

    it('closing the listener closes its connections and frees the address', async () => {
      const { listener, client, server } = await pair()
      await listener.close()
      expect(await server.closed).toMatchObject({ reason: 'LISTENER_CLOSED' })
      expect((await client.closed).initiator).toBe('remote')
      await expect(setup.createTransport().dial(listener.address)).rejects.toMatchObject({
        code: 'DIAL_FAILED',
      })
      const again = await setup.createTransport().listen(listener.address, () => {})
      expect(again.address).toBe(listener.address)
      await again.close()
    })

    it('serves 200 concurrent connections', async () => {
      const servers: Connection[] = []
      const listener = await listen({ maxInboundConnections: 256, maxInboundPerHost: 256 }, (c) =>
        servers.push(c),
      )
      const transport = setup.createTransport()
      const clients = await Promise.all(
        Array.from({ length: 200 }, () => transport.dial(listener.address)),
      )
      cleanups.push(() => closeAll(clients))
      await vi.waitFor(() => expect(servers).toHaveLength(200))
      const received = Promise.all(servers.map((s) => nextMessage(s)))
      for (const [i, c] of clients.entries()) c.send(pull(i))
      const heights = (await received).map((m) => m.data as number).sort((a, b) => a - b)
      expect(heights).toEqual(Array.from({ length: 200 }, (_, i) => i))
      expect(listener.connectionCount).toBe(200)
    })

    it('refuses inbound connections over the total and per-host limits', async () => {
      for (const limits of [{ maxInboundConnections: 2 }, { maxInboundPerHost: 2 }]) {
        const accepted: Connection[] = []
        const listener = await listen(limits, (c) => accepted.push(c))
        const transport = setup.createTransport()
        const first = await transport.dial(listener.address)
        const second = await transport.dial(listener.address)
        cleanups.push(() => closeAll([first, second]))
        await vi.waitFor(() => expect(accepted).toHaveLength(2))
        // The extra one is refused: the dial fails, or its connection is closed at once.
        const third = await transport.dial(listener.address).catch((error) => error as Error)
        if (third instanceof Error) expect(third).toMatchObject({ code: 'DIAL_FAILED' })
        else expect((await third.closed).initiator).toBe('remote')
        expect(listener.connectionCount).toBe(2)
      }
    })

    it('closes a connection idle for longer than its idle timeout', async () => {
      const { server, client } = await pair({ idleTimeoutMs: 150 })
      expect(await server.closed).toMatchObject({ reason: 'IDLE_TIMEOUT', initiator: 'local' })
      expect((await client.closed).initiator).toBe('remote')
    })

    it('leaks no sockets, servers or timers once everything is closed', async () => {
      // Start from a quiet process: earlier tests' sockets finish closing first.
      await until(() => {
        const counts = resourceCounts()
        return !('TCPSocketWrap' in counts) && !('TCPServerWrap' in counts)
      })
      const before = resourceCounts()
      const transport = setup.createTransport()
      const accepted: Connection[] = []
      const listener = await transport.listen(setup.listenAddress(), (c) => accepted.push(c))
      const clients = await Promise.all(
        Array.from({ length: 5 }, () => transport.dial(listener.address)),
      )
      await until(() => accepted.length === 5)
      const received = Promise.all(accepted.map((s) => nextMessage(s)))
      for (const c of clients) c.send(pull(1))
      await received
      for (const c of clients) c.close()
      await Promise.all([...clients, ...accepted].map((c) => c.closed))
      await listener.close()
      await until(() => sameCounts(resourceCounts(), before))
      expect(resourceCounts()).toEqual(before)
    })
  })
}
