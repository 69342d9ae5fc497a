import { once } from 'node:events'
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { DropReason } from '../src/clients.js'
import {
  BRIDGE_PROTOCOL_VERSION,
  type BridgeServer,
  NetworkView,
  type ServerMessage,
  serverMessageSchema,
  startBridgeServer,
} from '../src/index.js'

const servers: BridgeServer[] = []
const sockets: WebSocket[] = []
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate()
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function bridge(options: Partial<Parameters<typeof startBridgeServer>[0]> = {}) {
  const view = new NetworkView()
  const server = await startBridgeServer({
    view,
    listen: '127.0.0.1:0',
    deltaIntervalMs: 20,
    ...options,
  })
  servers.push(server)
  return { view, server }
}

/** A browser-like client: collects validated messages. */
async function client(address: string, subscribe = true) {
  const ws = new WebSocket(`ws://${address}/ws`)
  sockets.push(ws)
  const received: ServerMessage[] = []
  const waiters: (() => void)[] = []
  ws.on('message', (data) => {
    received.push(serverMessageSchema.parse(JSON.parse(data.toString())))
    for (const wake of waiters.splice(0)) wake()
  })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  if (subscribe) ws.send(JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, type: 'subscribe', seq: 1 }))
  const until = async (match: (m: ServerMessage) => boolean) => {
    while (!received.some(match)) await new Promise<void>((resolve) => waiters.push(resolve))
    return received.find(match)!
  }
  return { ws, received, until }
}

const closed = (ws: WebSocket) =>
  new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))

/** The status code of a WebSocket upgrade the bridge refused (0 when it accepted). */
function upgradeStatus(address: string, headers: Record<string, string> = {}): Promise<number> {
  const ws = new WebSocket(`ws://${address}/ws`, { headers }).on('error', () => {})
  sockets.push(ws)
  return new Promise<number>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.once('open', () => resolve(0))
  })
}

/** Resolves with the next drop of that reason. */
const dropped = (server: BridgeServer, reason: DropReason) =>
  new Promise<void>((resolve) => {
    const check = (r: DropReason) => {
      if (r !== reason) return
      server.clients.off('dropped', check)
      resolve()
    }
    server.clients.on('dropped', check)
  })

/** ~200 B per node: a view whose snapshot is about 60 kB. */
function fill(view: NetworkView, nodes: number, height = 1) {
  for (let i = 0; i < nodes; i++)
    view.updateNode(`node-${i}.example:7000`, { height, head: 'c'.repeat(64) })
}

describe('bridge server', () => {
  it('sends a snapshot on subscribe, then deltas, to 200 browsers at once', async () => {
    const { view, server } = await bridge()
    view.updateNode('127.0.0.1:7001', { height: 3, head: 'a'.repeat(64) })
    const browsers = await Promise.all(Array.from({ length: 200 }, () => client(server.address)))
    const snapshots = await Promise.all(browsers.map((b) => b.until((m) => m.type === 'snapshot')))
    for (const s of snapshots)
      expect(s.type === 'snapshot' && s.data.nodes.map((n) => n.height)).toEqual([3])
    view.updateNode('127.0.0.1:7001', { height: 4, head: 'b'.repeat(64) })
    const deltas = await Promise.all(
      browsers.map((b) => b.until((m) => m.type === 'delta' && m.data.nodes?.[0]?.height === 4)),
    )
    expect(deltas).toHaveLength(200)
    expect(server.clientCount()).toBe(200)
  })

  it('a browser that never reads neither delays the others nor grows the bridge without bound', async () => {
    const { view, server } = await bridge({
      softBufferBytes: 16 * 1024,
      hardBufferBytes: 256 * 1024,
    })
    const slow = await client(server.address)
    await slow.until((m) => m.type === 'snapshot')
    slow.ws.pause() // stops reading: the bridge's writes back up
    const fast = await client(server.address)
    await fast.until((m) => m.type === 'snapshot')
    const gone = closed(slow.ws)
    // ~60 kB deltas, 20 MB in all: more than the kernel's socket buffers can hide.
    for (let round = 1; round <= 330; round++) {
      for (let i = 0; i < 300; i++)
        view.updateNode(`node-${i}.example:7000`, { height: round, head: 'c'.repeat(64) })
      await fast.until(
        (m) => m.type === 'delta' && m.data.nodes?.some((n) => n.height === round) === true,
      )
    }
    slow.ws.resume()
    // It was either dropped, or it gets a fresh snapshot once it drains.
    const outcome = await Promise.race([
      gone.then(() => 'dropped'),
      slow
        .until((m) => m.type === 'snapshot' && m.data.nodes.length > 1)
        .then(() => 'resnapshotted'),
    ])
    expect(['dropped', 'resnapshotted']).toContain(outcome)
    // Whichever it was, it never received most of those deltas.
    expect(slow.received.filter((m) => m.type === 'delta').length).toBeLessThan(300)
  })

  it('closes only the browser that sends anything but subscribe or ping', async () => {
    const { server } = await bridge()
    const good = await client(server.address)
    const bad = await client(server.address)
    await bad.until((m) => m.type === 'snapshot')
    const code = closed(bad.ws)
    bad.ws.send(JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, type: 'setHeight', seq: 2, data: 9 }))
    expect(await code).toBe(1008)
    good.ws.send(
      JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, type: 'ping', seq: 2, data: { t: 42 } }),
    )
    const pong = await good.until((m) => m.type === 'pong')
    expect(pong.type === 'pong' && pong.data.t).toBe(42)
    expect(server.clientCount()).toBe(1)
  })

  it('3,000 subscribes from a browser that never reads cost one snapshot per interval and a bounded buffer, then a drop', async () => {
    const { view, server } = await bridge({
      maxMessagesPerSecond: 1e9,
      snapshotIntervalMs: 50,
      softBufferBytes: 64 * 1024,
      hardBufferBytes: 1024 * 1024,
      maxBehindMs: 1_000,
    })
    fill(view, 300)
    view.flush()
    const snapshotBytes = JSON.stringify(view.snapshot()).length
    expect(snapshotBytes).toBeGreaterThan(50_000)
    const reader = await client(server.address)
    await reader.until((m) => m.type === 'snapshot')
    const hostile = new WebSocket(`ws://${server.address}/ws`)
    sockets.push(hostile)
    await once(hostile, 'open')
    hostile.pause()
    let peak = 0
    const all = new Promise<void>((resolve) => {
      let taken = 0
      const count = () => {
        peak = Math.max(peak, server.stats().bufferedBytes)
        if (++taken < 3000) return
        server.clients.off('message', count)
        resolve()
      }
      server.clients.on('message', count)
    })
    const started = Date.now()
    for (let i = 0; i < 3000; i++)
      hostile.send(JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, type: 'subscribe', seq: i }))
    await all
    const elapsed = Date.now() - started
    const stats = server.stats()
    // Unbounded, that is 3,000 snapshots (~180 MB); here at most one per 50 ms, and only while it drains.
    expect(stats.snapshotsSent).toBeLessThanOrEqual(2 + Math.ceil(elapsed / 50))
    expect(stats.snapshotsSent).toBeLessThan(100)
    expect(peak).toBeLessThanOrEqual(1024 * 1024 + snapshotBytes)
    // Kept on sending while it never reads, it is dropped once its buffer passes the hard cap or it stays behind.
    const gone = Promise.race([dropped(server, 'SLOW'), dropped(server, 'BEHIND')])
    let out = false
    void gone.then(() => {
      out = true
    })
    for (let round = 2; !out && round < 400; round++) {
      for (let i = 0; i < 20; i++)
        hostile.send(JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, type: 'subscribe', seq: i }))
      fill(view, 300, round)
      await reader.until(
        (m) => m.type === 'delta' && m.data.nodes?.some((n) => n.height === round) === true,
      )
    }
    expect(out, 'the browser that never reads was dropped').toBe(true)
    expect(server.stats().bufferedBytes).toBeLessThanOrEqual(1024 * 1024 + snapshotBytes)
    expect(server.stats().clients).toBe(1)
    // The reader that keeps up is unaffected.
    fill(view, 300, 1000)
    await reader.until((m) => m.type === 'delta' && m.data.nodes?.[0]?.height === 1000)
  })

  it('closes a browser that floods it with messages (FLOOD, code 1008), and only that one', async () => {
    const { server } = await bridge({ maxMessagesPerSecond: 10 })
    const calm = await client(server.address)
    await calm.until((m) => m.type === 'snapshot')
    const loud = await client(server.address)
    await loud.until((m) => m.type === 'snapshot')
    const code = closed(loud.ws)
    const gone = dropped(server, 'FLOOD')
    for (let i = 0; i < 100; i++)
      loud.ws.send(
        JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, type: 'ping', seq: i + 2, data: { t: i } }),
      )
    await gone
    expect(await code).toBe(1008)
    calm.ws.send(
      JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, type: 'ping', seq: 2, data: { t: 7 } }),
    )
    await calm.until((m) => m.type === 'pong')
    expect(server.stats().dropped).toMatchObject({ FLOOD: 1, SLOW: 0, TOTAL: 0, BEHIND: 0 })
  })

  it('keeps the bytes buffered for all browsers under the total budget by dropping the fullest (TOTAL)', async () => {
    const { view, server } = await bridge({
      softBufferBytes: 64 * 1024 * 1024,
      hardBufferBytes: 64 * 1024 * 1024,
      totalBufferBytes: 512 * 1024,
    })
    const fast = await client(server.address)
    await fast.until((m) => m.type === 'snapshot')
    const stalled = await Promise.all([client(server.address), client(server.address)])
    await Promise.all(stalled.map((s) => s.until((m) => m.type === 'snapshot')))
    for (const s of stalled) s.ws.pause()
    const gone = dropped(server, 'TOTAL')
    let over = false
    void gone.then(() => {
      over = true
    })
    for (let round = 1; !over && round <= 400; round++) {
      fill(view, 300, round)
      await fast.until(
        (m) => m.type === 'delta' && m.data.nodes?.some((n) => n.height === round) === true,
      )
    }
    expect(over, 'a stalled browser was dropped for the total budget within 400 deltas').toBe(true)
    expect(server.stats().bufferedBytes).toBeLessThanOrEqual(512 * 1024 + 64 * 1024)
  })

  it('refuses a DNS-rebinding Host even when its Origin matches it, and serves IP and localhost hosts', async () => {
    const { server } = await bridge()
    const port = server.address.split(':').pop()
    // The pair a rebinding page sends: a name that resolves to us, and its own origin.
    const rebound = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` }
    expect(await upgradeStatus(server.address, rebound)).toBe(403)
    expect(
      await upgradeStatus(server.address, {
        host: `localhost:${port}`,
        origin: `http://localhost:${port}`,
      }),
    ).toBe(0)
    expect(
      await upgradeStatus(server.address, {
        host: server.address,
        origin: `http://${server.address}`,
      }),
    ).toBe(0)
    // The page itself is not served under a foreign name either.
    const status = await new Promise<number>((resolve, reject) =>
      request(`http://${server.address}/`, { headers: { host: rebound.host } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
        .on('error', reject)
        .end(),
    )
    expect(status).toBe(421)
    // A name the operator lists is served.
    const { server: named } = await bridge({ allowedHosts: ['bridge.example'] })
    const namedPort = named.address.split(':').pop()
    expect(
      await upgradeStatus(named.address, {
        host: `bridge.example:${namedPort}`,
        origin: `http://bridge.example:${namedPort}`,
      }),
    ).toBe(0)
  })

  it('refuses browsers over the cap and from other origins', async () => {
    const { server } = await bridge({ maxClients: 1 })
    await client(server.address)
    const extra = new WebSocket(`ws://${server.address}/ws`).on('error', () => {})
    sockets.push(extra)
    const status = await new Promise<number>((resolve) =>
      extra.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    )
    expect(status).toBe(503)
    const { server: other } = await bridge()
    const foreign = new WebSocket(`ws://${other.address}/ws`, { origin: 'http://evil.example' }).on(
      'error',
      () => {},
    )
    sockets.push(foreign)
    const refused = await new Promise<number>((resolve) =>
      foreign.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    )
    expect(refused).toBe(403)
  })
})
