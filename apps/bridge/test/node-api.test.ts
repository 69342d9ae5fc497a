// The edge to our nodes' API: every response validated, the node's words
// mapped once to the bridge's arrival vocabulary. A real HTTP server on
// loopback plays a node that answers wrongly.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { NetworkView, Observer } from '../src/index.js'
import { NodeApiError, readObservations, readStatus, toReport } from '../src/node-api.js'

const servers: Server[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
})

async function fakeApi(routes: Record<string, unknown>): Promise<string> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    res.writeHead(path in routes ? 200 : 404, { 'content-type': 'application/json' })
    res.end(JSON.stringify(routes[path] ?? {}))
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

const status = {
  address: '127.0.0.1:7001',
  network: 'n',
  genesis: 'g',
  height: 3,
  head: 'ab',
  round: 9,
  syncing: false,
  producing: true,
  mempool: 2,
  peers: [{ address: '127.0.0.1:7002', direction: 'both', knownSetSize: 0 }],
}

describe('node API edge', () => {
  it('accepts a status with the 1.1 identity fields or without them, and keeps unknown members out of the way', async () => {
    const plain = await readStatus(await fakeApi({ '/status': { ...status, later: 1 } }))
    expect(plain).toMatchObject({ height: 3, mempool: 2 })
    expect(plain.key).toBeUndefined()
    const key = 'ab'.repeat(32)
    const withId = await readStatus(
      await fakeApi({
        '/status': {
          ...status,
          key,
          permissioned: true,
          producers: [key],
          peers: [{ ...status.peers[0], key: 'cd'.repeat(32), proven: true }],
        },
      }),
    )
    expect(withId).toMatchObject({ key, permissioned: true, producers: [key] })
    expect(withId.peers[0]!.proven).toBe(true)
  })

  it('refuses a status whose members have the wrong type with a NodeApiError naming the member', async () => {
    const api = await fakeApi({ '/status': { ...status, height: '3' } })
    const error = await readStatus(api).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NodeApiError)
    expect((error as NodeApiError).code).toBe('NODE_API_INVALID')
    expect((error as NodeApiError).message).toContain('height')
  })

  it('skips invalid observations one by one, still advancing past them', async () => {
    const api = await fakeApi({
      '/observations': [
        { seq: 1, at: 10, kind: 'produced', hash: 'aa', height: 1 },
        { seq: 2, at: 'soon', kind: 'block', hash: 'bb' },
        { seq: 3, at: 12, kind: 'hash', hash: 'cc', from: '127.0.0.1:7002' },
      ],
    })
    const { reports, last, invalid } = await readObservations(api, 0)
    expect(last).toBe(3)
    expect(invalid).toBe(1)
    expect(reports.map((r) => (r.type === 'sighting' ? r.arrival : r.type))).toEqual([
      'produced',
      'announced',
    ])
  })

  it("maps every node observation kind once to the bridge's vocabulary", () => {
    const base = { seq: 1, at: 1, hash: 'aa' }
    const arrival = (kind: string) => {
      const r = toReport({ ...base, kind })
      return r.type === 'sighting' ? r.arrival : r.type
    }
    expect(['produced', 'block', 'hash', 'confirmed', 'reorg', 'gossiped'].map(arrival)).toEqual([
      'produced',
      'push',
      'announced',
      'seen',
      'reorg',
      'unknown',
    ])
  })

  it('shows a 1.1 node identity: its key, that it is a listed producer, proven peers, and whose turn it is', async () => {
    const [mine, other] = ['ab'.repeat(32), 'cd'.repeat(32)]
    const api = await fakeApi({
      '/status': {
        ...status,
        round: 7,
        key: mine,
        permissioned: true,
        producers: [other, mine],
        peers: [
          { ...status.peers[0], key: other, proven: true },
          { address: '127.0.0.1:7003', key: 'ef'.repeat(32), proven: false },
        ],
      },
      '/observations': [],
    })
    const view = new NetworkView()
    // Its P2P address refuses connections: everything here comes from the API.
    const observer = new Observer({ view, targets: [{ p2p: '127.0.0.1:9', api }], pollMs: 50 })
    const shown = new Promise<void>((resolve) =>
      view.on('delta', (d) => {
        if (d.nodes?.some((n) => n.key === mine)) resolve()
      }),
    )
    const flushing = setInterval(() => view.flush(), 20)
    await observer.start()
    try {
      await shown
      const snap = view.snapshot()
      expect(snap.nodes.find((n) => n.key === mine)).toMatchObject({
        producer: true,
        provenPeers: 1,
        peers: 2,
        pending: 2,
      })
      // Round 7 of two producers: the second (index 7 % 2), as the codec's rule says.
      expect(snap.network).toEqual({ network: 'n', producers: [other, mine], inTurn: mine })
    } finally {
      clearInterval(flushing)
      await observer.stop()
    }
  })
})
