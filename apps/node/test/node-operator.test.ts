// The node as a library and its HTTP API and metrics, in process: real TCP
// on loopback, real LevelDB in temp directories, real HTTP clients.
import { spawn, spawnSync } from 'node:child_process'
import { request as httpRequest, type Server } from 'node:http'
import { createServer } from 'node:net'
import type { Block, Logger } from '@chronos/codec'
import { afterEach, describe, expect, it } from 'vitest'
import { apiAddress, startApi } from '../src/api.js'
import { ChronosNode, type NodeConfigInput } from '../src/index.js'
import { makeGenesis, silent, tempDir } from './network.js'

const running: ChronosNode[] = []
const servers: Server[] = []
const cleanups: (() => void)[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    server.close()
  }
  await Promise.all(running.splice(0).map((node) => node.stop().catch(() => {})))
  for (const cleanup of cleanups.splice(0)) cleanup()
})

function dataDir(): string {
  const dir = tempDir('chronos-node-op-')
  cleanups.push(dir.remove)
  return dir.path
}

async function open(
  genesis: Block,
  config: Omit<NodeConfigInput, 'data'>,
  extra: { logger?: Logger; processMetrics?: boolean } = {},
): Promise<ChronosNode> {
  const node = await ChronosNode.open({
    config: { data: dataDir(), ...config },
    genesis,
    logger: extra.logger ?? silent,
    processMetrics: extra.processMetrics,
  })
  running.push(node)
  return node
}

async function api(node: ChronosNode): Promise<string> {
  const server = await startApi(node, '127.0.0.1:0')
  servers.push(server)
  return `http://${apiAddress(server)}`
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Resolves once the node's head reaches `height` (on its head events, not by polling). */
function heightReached(node: ChronosNode, height: number, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (node.store.height() >= height) return resolve()
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `${node.address} did not reach height ${height} in ${timeoutMs} ms (at ${node.store.height()})`,
          ),
        ),
      timeoutMs,
    )
    node.store.onHead(({ head }) => {
      if (head.block_header.height < height) return
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Resolves on the first of `node`'s gossip `events` (e.g. `empty`, `candidate`). */
function gossipEvent(
  node: ChronosNode,
  events: ('empty' | 'candidate' | 'dropped' | 'confirmed') | ('candidate' | 'dropped')[],
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const names = Array.isArray(events) ? events : [events]
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      for (const name of names) node.gossip.off(name, done)
      resolve()
    }
    const timer = setTimeout(() => {
      for (const name of names) node.gossip.off(name, done)
      reject(new Error(`no ${what} in ${timeoutMs} ms`))
    }, timeoutMs)
    for (const name of names) node.gossip.on(name, done)
  })
}

/** `name{labels} value` samples of a Prometheus text page. */
function samples(text: string, name: string): { labels: string; value: number }[] {
  const out: { labels: string; value: number }[] = []
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    if (match && match[1] === name) out.push({ labels: match[2] ?? '', value: Number(match[3]) })
  }
  return out
}

const metricsOf = async (url: string) => (await fetch(`${url}/metrics`)).text()
const statusOf = async (url: string) =>
  (await (await fetch(`${url}/status`)).json()) as { round: number; head: string; height: number }

/** A raw HTTP exchange: the status the client got, or the error it saw. */
function post(
  url: string,
  body: Buffer | Buffer[],
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(`${url}/tx`, { method: 'POST', headers })
    req.on('response', (response) => {
      let text = ''
      response.on('data', (chunk) => (text += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }))
      response.on('error', (error) => resolve({ error: error.message }))
    })
    req.on('error', (error) => resolve({ error: error.message }))
    const parts = Array.isArray(body) ? body : [body]
    if (headers.expect) {
      // Only after a 100 Continue, as a client that sends Expect does.
      req.on('continue', () => {
        for (const part of parts) req.write(part)
        req.end()
      })
      req.flushHeaders()
      return
    }
    for (const part of parts) req.write(part)
    req.end()
  })
}

describe('@chronos/node as a library', () => {
  it('opens with a plain config object, the genesis block itself and a plain Logger', async () => {
    const records: { level: string; object: Record<string, unknown>; message?: string }[] = []
    const record =
      (level: string) =>
      (object: object, message?: string): void => {
        records.push({ level, object: object as Record<string, unknown>, message })
      }
    // The packages' own Logger: no child(), no pino.
    const logger: Logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    }
    // Only what a caller cares about: no genesis path, no limits, no defaults spelled out.
    const config: NodeConfigInput = {
      data: dataDir(),
      listen: '127.0.0.1:0',
      peers: ['127.0.0.1:1'],
    }
    const node = await ChronosNode.open({ config, genesis: makeGenesis(200), logger })
    running.push(node)
    expect(node.config.limits.maxOutbound).toBe(16)
    const dialFailed = new Promise<void>((resolve) => {
      const check = logger.debug
      logger.debug = (object, message) => {
        check(object, message)
        if (message === 'dial failed') resolve()
      }
    })
    await node.start()
    await dialFailed
    expect(records.find((r) => r.message === 'node started')?.level).toBe('info')
    // Component loggers carry their binding although the logger has no child().
    expect(records.find((r) => r.message === 'dial failed')?.object).toMatchObject({
      component: 'peers',
      peer: '127.0.0.1:1',
    })
  })

  it('stops before start, releasing its data directory for the next node', async () => {
    const genesis = makeGenesis(200)
    const data = dataDir()
    const first = await ChronosNode.open({
      config: { data, listen: '127.0.0.1:0' },
      genesis,
      logger: silent,
    })
    await first.stop()
    const second = await ChronosNode.open({
      config: { data, listen: '127.0.0.1:0' },
      genesis,
      logger: silent,
    })
    running.push(second)
    await second.start()
    expect(second.status().height).toBe(0)
  })
})

describe('node HTTP API', () => {
  it('serves /blocks/latest and a block by its hash', async () => {
    const node = await open(makeGenesis(200), { listen: '127.0.0.1:0', produce: true })
    await node.start()
    const url = await api(node)
    await heightReached(node, 2)
    const latest = (await (await fetch(`${url}/blocks/latest`)).json()) as Block
    expect(latest.block_header.height).toBeGreaterThanOrEqual(2)
    const byHeight = (await (await fetch(`${url}/blocks/1`)).json()) as Block
    const byHash = await fetch(`${url}/blocks/${byHeight.block_header.hash}`)
    expect(byHash.status).toBe(200)
    expect(await byHash.json()).toEqual(byHeight)
    const unknown = await fetch(`${url}/blocks/${'0'.repeat(64)}`)
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: string }).error).toBe('NOT_FOUND')
    expect((await fetch(`${url}/blocks/nonsense`)).status).toBe(404)
  })

  it('answers 409 NOT_PRODUCING for a transaction posted to a node that does not produce', async () => {
    const node = await open(makeGenesis(200), { listen: '127.0.0.1:0' })
    await node.start()
    const url = await api(node)
    const answer = await post(url, Buffer.from('{"from":"a","to":"b","amount":1,"nonce":1}'))
    expect(answer).toMatchObject({ status: 409 })
    expect(JSON.parse((answer as { body: string }).body).error).toBe('NOT_PRODUCING')
    expect(node.mempool.size).toBe(0)
    // Production switched on: the same transaction is taken.
    node.setProducing(true)
    expect(
      await post(url, Buffer.from('{"from":"a","to":"b","amount":1,"nonce":1}')),
    ).toMatchObject({ status: 202 })
  })

  it('refuses a transaction without a canonical form with 400 NOT_CANONICALIZABLE', async () => {
    const node = await open(makeGenesis(200), { listen: '127.0.0.1:0', produce: true })
    await node.start()
    const url = await api(node)
    // A lone surrogate: legal JSON text, no JCS form, so no transaction id.
    const answer = await post(url, Buffer.from('{"memo":"\\ud800"}'))
    expect(answer).toMatchObject({ status: 400 })
    expect(JSON.parse((answer as { body: string }).body).error).toBe('NOT_CANONICALIZABLE')
    expect((await post(url, Buffer.from('[1]'))) as { status: number }).toMatchObject({
      status: 400,
    })
  })

  it('delivers 413 to a client still sending a body over the cap, then serves the next request', async () => {
    const node = await open(makeGenesis(200), {
      listen: '127.0.0.1:0',
      produce: true,
      limits: { maxTxBytes: 4096 },
    })
    await node.start()
    const url = await api(node)
    const big = Buffer.alloc(1024 * 1024, 'a')
    // Declared length over the cap.
    const declared = await post(url, big, { 'content-type': 'application/json' })
    expect(declared).toMatchObject({ status: 413 })
    expect(JSON.parse((declared as { body: string }).body).error).toBe('TOO_LARGE')
    // No length declared (chunked): the cap is crossed while reading.
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(16 * 1024, 'b'))
    expect(await post(url, chunks, { 'transfer-encoding': 'chunked' })).toMatchObject({
      status: 413,
    })
    // Expect: 100-continue: refused before the body is sent.
    expect(
      await post(url, big, { expect: '100-continue', 'content-length': String(big.length) }),
    ).toMatchObject({ status: 413 })
    expect(await post(url, Buffer.from('{"n":1}'))).toMatchObject({ status: 202 })
  })

  it('delivers 413 to curl, which used to see "Empty reply from server"', async (context) => {
    if (spawnSync('curl', ['--version']).status !== 0) {
      console.log('curl is not installed: the 413 is checked with node:http clients above only')
      return context.skip()
    }
    const node = await open(makeGenesis(200), { listen: '127.0.0.1:0', produce: true })
    await node.start()
    const url = await api(node)
    for (const size of [100 * 1024, 4 * 1024 * 1024]) {
      // Asynchronously: the server answering it runs in this process.
      const curl = spawn('curl', [
        '-sS',
        '-o',
        '-',
        '-w',
        '\n%{http_code}',
        '--data-binary',
        '@-',
        `${url}/tx`,
      ])
      let out = ''
      curl.stdout.on('data', (chunk) => (out += chunk))
      curl.stderr.on('data', (chunk) => (out += chunk))
      curl.stdin.on('error', () => {}) // curl may stop reading once it has the answer
      curl.stdin.end(Buffer.alloc(size, 'c'))
      await new Promise((resolve) => curl.on('exit', resolve))
      expect(out.split('\n').at(-1), `curl with a ${size}-byte body`).toBe('413')
      expect(out).toContain('TOO_LARGE')
    }
  })
})

describe('node metrics', () => {
  it('chronos_round follows the round /status reports, with no block confirmed', async () => {
    const node = await open(makeGenesis(200), { listen: '127.0.0.1:0' })
    await node.start()
    const url = await api(node)
    await gossipEvent(node, 'empty', 'first empty round')
    await gossipEvent(node, 'empty', 'second empty round')
    const status = await statusOf(url)
    const [round] = samples(await metricsOf(url), 'chronos_round')
    expect(status.round).toBeGreaterThan(0)
    // A round may end between the two requests.
    expect(round!.value - status.round).toBeGreaterThanOrEqual(0)
    expect(round!.value - status.round).toBeLessThanOrEqual(1)
    expect(samples(await metricsOf(url), 'chronos_blocks_confirmed_total')).toEqual([
      { labels: '', value: 0 },
    ])
  })

  it('counts a peer connected both ways once, and observes arrival delay and sync import time', async () => {
    const genesis = makeGenesis(200)
    const [portA, portB] = [await freePort(), await freePort()]
    // a produces once both are connected: a node that joins a block behind stays behind until
    // gossip holds orphans (issue 11), and this test is about metrics.
    const a = await open(genesis, {
      listen: `127.0.0.1:${portA}`,
      peers: [`127.0.0.1:${portB}`],
      limits: { statusIntervalMs: 100 },
    })
    const b = await open(genesis, {
      listen: `127.0.0.1:${portB}`,
      peers: [`127.0.0.1:${portA}`],
      limits: { statusIntervalMs: 100 },
    })
    await Promise.all([a.start(), b.start()])
    const urlB = await api(b)
    // Each Status (every 100 ms, on either connection) is a moment to look again.
    await new Promise<void>((resolve, reject) => {
      const bothWays = () =>
        b.status().peers.length === 1 && b.status().peers[0]!.direction === 'both'
      const timer = setTimeout(() => {
        b.peers.off('status', check)
        reject(new Error(`b never saw a connected both ways: ${JSON.stringify(b.status().peers)}`))
      }, 20_000)
      const check = () => {
        if (!bothWays()) return
        clearTimeout(timer)
        b.peers.off('status', check)
        resolve()
      }
      b.peers.on('status', check)
      check()
    })
    const arrived = gossipEvent(b, ['candidate', 'dropped'], 'a block from a at b')
    a.setProducing(true)
    await arrived
    await heightReached(b, 2)
    const text = await metricsOf(urlB)
    const peers = samples(text, 'chronos_peers')
    expect(peers).toEqual(
      expect.arrayContaining([
        { labels: '{direction="both"}', value: 1 },
        { labels: '{direction="inbound"}', value: 0 },
        { labels: '{direction="outbound"}', value: 0 },
      ]),
    )
    expect(peers.reduce((sum, s) => sum + s.value, 0)).toBe(1)
    expect(samples(text, 'chronos_block_arrival_delay_seconds_count')[0]!.value).toBeGreaterThan(0)

    // A late joiner imports a's chain by sync.
    await heightReached(a, 4)
    const late = await open(genesis, {
      listen: '127.0.0.1:0',
      peers: [a.address],
      limits: { statusIntervalMs: 100 },
    })
    await late.start()
    await heightReached(late, 4)
    const urlLate = await api(late)
    const imports = samples(await metricsOf(urlLate), 'chronos_sync_import_seconds_count')
    expect(imports[0]!.value).toBeGreaterThan(0)
  })

  it('exposes process, Node.js and build metrics, and passes promtool check metrics', async () => {
    const node = await open(
      makeGenesis(200),
      { listen: '127.0.0.1:0', produce: true },
      { processMetrics: true },
    )
    await node.start()
    const url = await api(node)
    await heightReached(node, 1)
    const text = await metricsOf(url)
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      expect(samples(text, name).length, name).toBeGreaterThan(0)
    const [build] = samples(text, 'chronos_build_info')
    expect(build).toMatchObject({ value: 1 })
    expect(build!.labels).toContain(`nodejs="${process.version}"`)
    expect(build!.labels).toMatch(/version="\d+\.\d+\.\d+"/)

    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text })
    if (promtool.error) {
      console.log(`promtool not installed (${promtool.error.message}): lint not checked here`)
      return
    }
    expect(`${promtool.stdout}${promtool.stderr}`.trim()).toBe('')
    expect(promtool.status).toBe(0)
  })
})
