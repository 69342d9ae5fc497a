// GET /health and GET /ready against real nodes: real TCP on loopback, real
// LevelDB in a temp dir, and for the syncing state a raw TCP peer that claims
// a longer chain and never hands it over (so the state holds until we act).

import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { tcpTransport } from '@chronos/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { apiAddress, startApi } from '../src/api.js'
import { ChronosNode, type NodeHealth, resolveConfig } from '../src/index.js'
import { RawPeer } from './hostile/raw-peer.js'
import {
  history,
  makeGenesis,
  silent,
  startNode,
  type TestNodeOptions,
  tempDir,
  until,
} from './network.js'

const cleanups: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function withApi(node: ChronosNode): Promise<string> {
  const api = await startApi(node, '127.0.0.1:0')
  cleanups.push(() => new Promise((resolve) => api.close(resolve)))
  cleanups.push(() => api.closeAllConnections())
  return `http://${apiAddress(api)}`
}

async function get(base: string, path: string): Promise<{ status: number; body: NodeHealth }> {
  const response = await fetch(`${base}${path}`)
  return { status: response.status, body: (await response.json()) as NodeHealth }
}

/** A node on real TCP and a real LevelDB, with its API. */
async function serving(options: Omit<TestNodeOptions, 'data'>) {
  const dir = tempDir('chronos-health-')
  cleanups.push(dir.remove)
  const node = await startNode({ ...options, data: dir.path })
  cleanups.push(() => node.stop())
  return { node, api: await withApi(node) }
}

/** A loopback port nothing listens on (bound, then released). */
async function refusedAddress(): Promise<string> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return `127.0.0.1:${port}`
}

describe('GET /health and GET /ready', () => {
  it('a node that is opened but not started answers 503 STARTING', async () => {
    const dir = tempDir('chronos-health-')
    cleanups.push(dir.remove)
    const genesis = makeGenesis(1000)
    const config = resolveConfig(
      {},
      { data: dir.path, genesis: '(in memory)', listen: '127.0.0.1:0' },
    )
    const node = await ChronosNode.open({
      config,
      genesis,
      logger: silent,
      transport: tcpTransport(),
    })
    cleanups.push(() => node.stop())
    const api = await withApi(node)
    const health = await get(api, '/health')
    expect(health).toEqual({
      status: 503,
      body: { state: 'not-ready', reason: 'STARTING', height: 0, peers: 0 },
    })
    expect((await get(api, '/ready')).status).toBe(503)
  })

  it('a lone node with no configured peers is synced: 200 on both', async () => {
    const { api } = await serving({ genesis: makeGenesis(1000) })
    expect(await get(api, '/health')).toEqual({
      status: 200,
      body: { state: 'synced', height: 0, peers: 0 },
    })
    expect((await get(api, '/ready')).status).toBe(200)
  })

  it('a bootstrap node whose peer list holds only its own address is synced, not waiting for peers', async () => {
    const dir = tempDir('chronos-health-')
    cleanups.push(dir.remove)
    const self = await refusedAddress()
    const config = resolveConfig(
      {},
      { data: dir.path, genesis: '(in memory)', listen: self, peers: [self] },
    )
    const node = await ChronosNode.open({
      config,
      genesis: makeGenesis(1000),
      logger: silent,
      transport: tcpTransport(),
    })
    cleanups.push(() => node.stop())
    await node.start()
    const api = await withApi(node)
    expect(await get(api, '/health')).toEqual({
      status: 200,
      body: { state: 'synced', height: 0, peers: 0 },
    })
  })

  it('a node whose configured peers are all unreachable answers 503 NO_PEERS', async () => {
    const { api } = await serving({ genesis: makeGenesis(1000), peers: [await refusedAddress()] })
    const health = await get(api, '/health')
    expect(health.status).toBe(503)
    expect(health.body).toMatchObject({ state: 'not-ready', reason: 'NO_PEERS', peers: 0 })
    const ready = await get(api, '/ready')
    expect(ready.status).toBe(503)
    expect(ready.body).toMatchObject({ reason: 'NO_PEERS' })
  })

  it('a node behind its peer answers 206 syncing (or syncing_status), /ready 503; when the peer leaves, 503 NO_PEERS', async () => {
    // Rounds enough in the past that a 1,000-block chain is possible (a taller claim is refused).
    const genesis = makeGenesis(100, Date.now() - 2_000 * 100)
    const claimant = await RawPeer.listen()
    // requestTimeoutMs is long: the node must stay waiting for the blocks the claimant withholds.
    const { node, api } = await serving({
      genesis,
      peers: [claimant.address],
      limits: { requestTimeoutMs: 120_000, statusIntervalMs: 5_000 },
    })
    const peer = await claimant.accepted
    cleanups.push(() => peer.close())
    expect(await peer.next('SHAKEHAND')).toBeDefined()
    peer.send({
      code: 'SHAKEHAND',
      data: {
        timestamp: Date.now(),
        height: 1000,
        address: claimant.address,
        head: randomBytes(32).toString('hex'),
        genesis: genesis.block_header.hash,
      },
    })
    // The node asks for blocks only once it has taken the claim in: the state is settled here.
    expect(await peer.next('PULL_BLOCK')).toBeDefined()
    expect(await get(api, '/health')).toEqual({
      status: 206,
      body: { state: 'syncing', height: 0, target: 1000, peers: 1 },
    })
    expect((await get(api, '/health?syncing_status=200')).status).toBe(200)
    const bad = await fetch(`${api}/health?syncing_status=7`)
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: 'INVALID_PARAM' })
    expect((await get(api, '/ready')).status).toBe(503)

    const gone = new Promise((resolve) => node.peers.once('disconnect', resolve))
    peer.close()
    await gone
    expect(await get(api, '/health')).toMatchObject({
      status: 503,
      body: { state: 'not-ready', reason: 'NO_PEERS' },
    })
  })

  it('a late joiner becomes synced once it holds its peer chain: 200 on both', async () => {
    const roundMs = 100
    const genesis = makeGenesis(roundMs, Date.now() - 100 * roundMs)
    const chain = history(genesis, 60)
    const source = await serving({ genesis, preload: chain })
    const joiner = await serving({ genesis, peers: [source.node.address] })
    await until([joiner.node], () => joiner.node.store.height() === 60, 30_000, 'joiner at 60')
    expect(await get(joiner.api, '/health')).toEqual({
      status: 200,
      body: { state: 'synced', height: 60, peers: 1 },
    })
    expect((await get(joiner.api, '/ready')).status).toBe(200)
  })

  it('a stopping node answers 503 STOPPING', async () => {
    const { node, api } = await serving({ genesis: makeGenesis(1000) })
    const stopped = node.stop()
    expect(await get(api, '/health')).toMatchObject({
      status: 503,
      body: { state: 'not-ready', reason: 'STOPPING' },
    })
    expect((await get(api, '/ready')).status).toBe(503)
    await stopped
  })
})
