/**
 * `@chronos/transport/compliance`: one suite any Transport must pass. It
 * imports no test framework: pass yours in. From a Vitest test file:
 *
 *   import { afterEach, describe, it } from 'vitest'
 *   runTransportCompliance('tcp', () => ({
 *     createTransport: (options) => tcpTransport(options),
 *     listenAddress: () => '127.0.0.1:0',
 *   }), { describe, it, afterEach })
 *
 * `node:test`'s describe/it/afterEach work the same way. Assertions are
 * `node:assert` (every runner reports its AssertionError). Each test
 * needs up to 60 s on a loaded machine (one moves 8 MiB, one opens 200
 * connections): set `testTimeout: 60_000` (Vitest) or the equivalent.
 * Every wait inside has its own 30 s deadline and says what it waited for.
 */
import assert from 'node:assert/strict'
import type { Message } from '@chronos/codec'
import type { Connection, Listener, Transport, TransportOptions } from './types.js'

/** What a transport's test file tells the suite about it. */
export interface ComplianceSetup {
  createTransport(options?: TransportOptions): Transport
  /** An address to listen on; port 0 picks a free one. */
  listenAddress(): string
  /**
   * The `process.getActiveResourcesInfo()` kinds this transport's sockets
   * and servers show up as, for the leak check: TCP is `TCPSocketWrap` and
   * `TCPServerWrap` (the default), a Unix-domain socket `PipeWrap` and
   * `PipeServerWrap`, an in-process transport `[]`. Timers are always checked.
   */
  handleKinds?: readonly string[]
  /**
   * A stream transport opens a raw connection to `address` and writes the
   * start of a frame it never finishes (a slow-drip peer); it returns how to
   * close that raw connection. Enables the frame-timeout test. Transports
   * whose messages arrive whole (memory; ws, whose library owns framing)
   * leave it out.
   */
  openPartialFrame?(address: string): Promise<() => void>
}

/** The parts of a test framework the suite uses (Vitest, node:test, Jest, Mocha all have them). */
export interface ComplianceRunner {
  describe(name: string, body: () => void): unknown
  it(name: string, body: () => Promise<void>): unknown
  afterEach(body: () => Promise<void>): unknown
}

/** TCP's handle kinds, the default of `ComplianceSetup.handleKinds`. */
export const TCP_HANDLE_KINDS: readonly string[] = ['TCPSocketWrap', 'TCPServerWrap']

/** Every wait in the suite gives up after this long, saying what it waited for. */
const WAIT_MS = 30_000

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

/** Yields to the event loop without creating a timer (the leak check counts timers). */
const yieldOnce = () => new Promise((resolve) => setImmediate(resolve))

/** Waits until `condition` holds; throws, naming `what`, at the deadline. */
async function until(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`)
    await yieldOnce()
  }
}

/** Settles like `promise`, or throws, naming `what`, at the deadline. */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${what}`)), timeoutMs)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}

function expectCode(action: () => unknown, code: string): void {
  assert.throws(action, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code)
    return true
  })
}

async function expectRejectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code)
    return true
  })
}

/**
 * Sends `chunk` repeatedly, yielding to the event loop between sends so the
 * peer may read, until `send` returns false. Fails if `budgetBytes` go out
 * first: then the peer kept reading (a paused peer must not).
 */
async function fillUntilBackpressure(
  client: Connection,
  chunk: Message,
  chunkBytes: number,
  budgetBytes: number,
): Promise<number> {
  let sent = 0
  while (sent * chunkBytes < budgetBytes) {
    sent++
    if (!client.send(chunk)) return sent
    await yieldOnce()
  }
  assert.fail(
    `send never returned false after ${sent * chunkBytes} bytes to a paused peer: ` +
      'pause() must stop reading, so that the sender sees backpressure',
  )
}

export function runTransportCompliance(
  name: string,
  makeSetup: () => ComplianceSetup,
  runner: ComplianceRunner,
): void {
  const { describe, it, afterEach } = runner
  describe(`transport compliance: ${name}`, () => {
    const setup = makeSetup()
    const handleKinds = setup.handleKinds ?? TCP_HANDLE_KINDS
    const counts = () => {
      const found: Record<string, number> = {}
      for (const kind of process.getActiveResourcesInfo())
        if (kind === 'Timeout' || handleKinds.includes(kind)) found[kind] = (found[kind] ?? 0) + 1
      return found
    }
    const sockets = () => handleKinds.reduce((sum, kind) => sum + (counts()[kind] ?? 0), 0)
    // Taken while the suite is collected, before any of its tests opens anything.
    const socketsAtStart = sockets()
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
      const server = await within(accepted, 'the listener to accept the dialled connection')
      cleanups.push(() => closeAll([client, server]))
      return { listener, client, server }
    }

    it('dials and accepts, knows directions and addresses, carries messages both ways', async () => {
      const { listener, client, server } = await pair()
      assert.equal(client.direction, 'outbound')
      assert.equal(server.direction, 'inbound')
      assert.equal(client.remoteAddress, listener.address, 'client.remoteAddress')
      assert.equal(server.localAddress, listener.address, 'server.localAddress')
      assert.equal(client.status, 'open')
      const status: Message = {
        code: 'SHAKEHAND',
        data: { timestamp: 1, height: 2, address: '127.0.0.1:7001' },
      }
      const atServer = nextMessage(server)
      client.send(status)
      assert.deepEqual(await within(atServer, 'SHAKEHAND at the server'), status)
      const atClient = nextMessage(client)
      server.send({ code: 'PUSH_BLOCK', data: null })
      assert.deepEqual(await within(atClient, 'PUSH_BLOCK at the client'), {
        code: 'PUSH_BLOCK',
        data: null,
      })
    })

    it('delivers 10,000 small messages in order', async () => {
      const { client, server } = await pair()
      const received = collect(server, 10_000)
      for (let i = 0; i < 10_000; i++) if (!client.send(pull(i))) await client.drained()
      const messages = await within(received, '10,000 messages at the server')
      assert.deepEqual(
        messages.map((m) => m.data),
        Array.from({ length: 10_000 }, (_, i) => i),
      )
    })

    it('carries one message of exactly the maximum body size', async () => {
      const max = 8 * 1024 * 1024
      const { client, server } = await pair({ maxBodyBytes: max }, { maxBodyBytes: max })
      const message = messageOfSize(max)
      const received = nextMessage(server)
      client.send(message)
      assert.equal(JSON.stringify(await within(received, 'the 8 MiB message')).length, max)
    })

    it('refuses to send a message over its own limit', async () => {
      const { client } = await pair(undefined, { maxBodyBytes: 1024 })
      expectCode(() => client.send(messageOfSize(2048)), 'FRAME_TOO_LARGE')
      assert.equal(client.status, 'open')
    })

    it('closes on a message over the receiver limit, with a protocol error', async () => {
      const { client, server } = await pair({ maxBodyBytes: 1024 })
      client.send(messageOfSize(2048))
      const info = await within(server.closed, 'the receiver to close')
      assert.equal(info.reason, 'PROTOCOL_ERROR')
      assert.equal((info.error as { code?: string } | undefined)?.code, 'FRAME_TOO_LARGE')
      assert.equal((await within(client.closed, 'the sender to learn of it')).initiator, 'remote')
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
      assert.equal(accepted, false, 'send returned false')
      assert.ok(client.bufferedBytes >= options.highWaterMarkBytes, 'bufferedBytes >= mark')
      const received = collect(server, sent)
      server.resume()
      await within(client.drained(), 'drained() after the peer resumed')
      assert.equal((await within(received, `${sent} messages after resume`)).length, sent)
    })

    it('pausing stops reading: a paused peer holds messages back and its sender sees backpressure', async () => {
      const { client, server } = await pair(undefined, { highWaterMarkBytes: 64 * 1024 })
      server.pause()
      let deliveredWhilePaused = 0
      const count = () => deliveredWhilePaused++
      server.on('message', count)
      const size = 16 * 1024
      const sent = await fillUntilBackpressure(client, messageOfSize(size), size, 64 * 1024 * 1024)
      server.off('message', count)
      assert.equal(deliveredWhilePaused, 0, 'messages delivered while paused')
      const received = collect(server, sent)
      server.resume()
      assert.equal((await within(received, `${sent} messages after resume`)).length, sent)
    })

    for (const mark of [1024, 8 * 1024]) {
      it(`drained() resolves with a high-water mark of ${mark / 1024} KiB`, async () => {
        // Below the 16 KiB of Node's own stream buffers: a transport that
        // waits only for the socket's `drain` event would hang here.
        const { client, server } = await pair(undefined, { highWaterMarkBytes: mark })
        server.pause()
        const size = 512
        const sent = await fillUntilBackpressure(
          client,
          messageOfSize(size),
          size,
          64 * 1024 * 1024,
        )
        const received = collect(server, sent + 1)
        server.resume()
        await within(
          client.drained(),
          `drained() after the peer resumed (${client.bufferedBytes} bytes buffered, mark ${mark})`,
        )
        assert.ok(client.bufferedBytes < mark, 'bufferedBytes under the mark once drained')
        assert.equal(client.send(pull(1)), true, 'send accepts again after drain')
        assert.equal((await within(received, 'every message after resume')).length, sent + 1)
      })
    }

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
      assert.equal((thrown as { code?: string } | undefined)?.code, 'WRITE_BUFFER_FULL')
      const info = await within(client.closed, 'the sender to close')
      assert.equal(info.reason, 'WRITE_BUFFER_FULL')
      assert.equal(info.initiator, 'local')
      assert.ok(client.bufferedBytes <= cap + 64 * 1024, `bufferedBytes ${client.bufferedBytes}`)
    })

    it('aborts a dial before it completes', async () => {
      const listener = await listen()
      const transport = setup.createTransport()
      const controller = new AbortController()
      const dialing = transport.dial(listener.address, { signal: controller.signal })
      controller.abort()
      await assert.rejects(dialing, (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ABORTED')
        assert.equal(error.name, 'AbortError')
        return true
      })
      await expectRejectCode(
        transport.dial(listener.address, { signal: AbortSignal.abort() }),
        'ABORTED',
      )
    })

    for (const side of ['client', 'server'] as const) {
      it(`closes from the ${side} side; the other side learns it`, async () => {
        const p = await pair()
        const closer = p[side]
        const other = side === 'client' ? p.server : p.client
        closer.close()
        const info = await within(closer.closed, 'the closing side to settle `closed`')
        assert.equal(info.reason, 'LOCAL_CLOSE')
        assert.equal(info.initiator, 'local')
        assert.equal((await within(other.closed, 'the other side to close')).initiator, 'remote')
        assert.equal(closer.status, 'closed')
        expectCode(() => closer.send(pull(1)), 'CONNECTION_CLOSED')
        await expectRejectCode(closer.drained(), 'CONNECTION_CLOSED')
      })
    }

    it('closing the listener closes its connections and frees the address', async () => {
      const { listener, client, server } = await pair()
      await listener.close()
      assert.equal((await within(server.closed, 'the inbound side')).reason, 'LISTENER_CLOSED')
      assert.equal((await within(client.closed, 'the outbound side')).initiator, 'remote')
      await expectRejectCode(setup.createTransport().dial(listener.address), 'DIAL_FAILED')
      const again = await setup.createTransport().listen(listener.address, () => {})
      assert.equal(again.address, listener.address)
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
      await until(() => servers.length === 200, `200 accepted connections (${servers.length})`)
      const received = Promise.all(servers.map((s) => nextMessage(s)))
      for (const [i, c] of clients.entries()) c.send(pull(i))
      const heights = (await within(received, 'one message on each of 200 connections'))
        .map((m) => m.data as number)
        .sort((a, b) => a - b)
      assert.deepEqual(
        heights,
        Array.from({ length: 200 }, (_, i) => i),
      )
      assert.equal(listener.connectionCount, 200)
    })

    it('refuses inbound connections over the total and per-host limits', async () => {
      for (const limits of [{ maxInboundConnections: 2 }, { maxInboundPerHost: 2 }]) {
        const accepted: Connection[] = []
        const listener = await listen(limits, (c) => accepted.push(c))
        const transport = setup.createTransport()
        const first = await transport.dial(listener.address)
        const second = await transport.dial(listener.address)
        cleanups.push(() => closeAll([first, second]))
        await until(() => accepted.length === 2, `2 accepted connections (${accepted.length})`)
        // The extra one is refused: the dial fails, or its connection is closed at once.
        const third = await transport.dial(listener.address).catch((error) => error as Error)
        if (third instanceof Error)
          assert.equal((third as { code?: string }).code, 'DIAL_FAILED', JSON.stringify(limits))
        else
          assert.equal((await within(third.closed, 'the refused connection')).initiator, 'remote')
        assert.equal(listener.connectionCount, 2, JSON.stringify(limits))
      }
    })

    it('closes a connection idle for longer than its idle timeout', async () => {
      const { server, client } = await pair({ idleTimeoutMs: 150 })
      const info = await within(server.closed, 'IDLE_TIMEOUT')
      assert.equal(info.reason, 'IDLE_TIMEOUT')
      assert.equal(info.initiator, 'local')
      assert.equal((await within(client.closed, 'the peer to close')).initiator, 'remote')
    })

    const { openPartialFrame } = setup
    if (openPartialFrame) {
      it('closes a connection whose frame stays incomplete for longer than the frame timeout', async () => {
        let accept!: (c: Connection) => void
        const accepted = new Promise<Connection>((resolve) => (accept = resolve))
        const listener = await listen({ frameTimeoutMs: 200, idleTimeoutMs: 0 }, accept)
        const closeRaw = await openPartialFrame(listener.address)
        cleanups.push(closeRaw)
        const server = await within(accepted, 'the raw connection to be accepted')
        const info = await within(server.closed, 'FRAME_TIMEOUT')
        assert.equal(info.reason, 'FRAME_TIMEOUT')
        assert.equal(info.initiator, 'local')
      })
    }

    it('leaks no sockets, servers or timers once everything is closed', async () => {
      // The oracle: handles of this transport's kinds (declared by the
      // setup) come back to what the process held before any test ran (the
      // runner may hold some: an IPC pipe), and no timer outlives the test.
      // Timers of other code may end meanwhile, so their count may fall, never rise.
      await until(
        () => sockets() <= socketsAtStart,
        `earlier tests' ${handleKinds.join('/')} handles to close (${sockets()} open, ${socketsAtStart} before any test)`,
      )
      const timersBefore = counts().Timeout ?? 0
      const transport = setup.createTransport()
      const accepted: Connection[] = []
      const listener = await transport.listen(setup.listenAddress(), (c) => accepted.push(c))
      const clients = await Promise.all(
        Array.from({ length: 5 }, () => transport.dial(listener.address)),
      )
      await until(() => accepted.length === 5, '5 accepted connections')
      const received = Promise.all(accepted.map((s) => nextMessage(s)))
      for (const c of clients) c.send(pull(1))
      await within(received, 'one message on each of 5 connections')
      for (const c of clients) c.close()
      await Promise.all([...clients, ...accepted].map((c) => c.closed))
      await listener.close()
      const settled = () => sockets() <= socketsAtStart && (counts().Timeout ?? 0) <= timersBefore
      await until(settled, 'sockets, servers and timers to be released').catch(() => {})
      const after = counts()
      assert.ok(
        sockets() <= socketsAtStart,
        `${JSON.stringify(after)} open after, ${socketsAtStart} ${handleKinds.join('/')} before any test`,
      )
      assert.ok(
        (after.Timeout ?? 0) <= timersBefore,
        `${after.Timeout} timers after, ${timersBefore} before`,
      )
    })
  })
}
