import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import {
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
  if (subscribe) ws.send(JSON.stringify({ v: 1, type: 'subscribe', seq: 1 }))
  const until = async (match: (m: ServerMessage) => boolean) => {
    while (!received.some(match)) await new Promise<void>((resolve) => waiters.push(resolve))
    return received.find(match)!
  }
  return { ws, received, until }
}

const closed = (ws: WebSocket) =>
  new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))

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
    bad.ws.send(JSON.stringify({ v: 1, type: 'setHeight', seq: 2, data: 9 }))
    expect(await code).toBe(1008)
    good.ws.send(JSON.stringify({ v: 1, type: 'ping', seq: 2, data: { t: 42 } }))
    const pong = await good.until((m) => m.type === 'pong')
    expect(pong.type === 'pong' && pong.data.t).toBe(42)
    expect(server.clientCount()).toBe(1)
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
