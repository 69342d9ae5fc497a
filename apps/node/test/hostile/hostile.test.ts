// The hostile-peer suite: every input in cases.ts against one real node
// (TCP on loopback, LevelDB on disk). After each input an honest peer must
// still get its SHAKEHAND answered within 2 s and the store must be
// unchanged; at the end the whole table is printed.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Block } from '@chronos/codec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ChronosNode, resolveConfig } from '../../src/index.js'
import { history, makeGenesis, tempDir } from '../network.js'
import { type HostileContext, hostileCases } from './cases.js'
import { capturingLogger } from './log-capture.js'
import { RawPeer } from './raw-peer.js'

const ROUND_MS = 1000
const MAX_BODY = 1024 * 1024
const genesis = makeGenesis(ROUND_MS, Date.now() - 40 * ROUND_MS)
const chain: Block[] = history(genesis, 20, ROUND_MS)
const capture = capturingLogger()
const dir = tempDir('chronos-hostile-')
let node: ChronosNode
let context: HostileContext
let nextPort = 1
let caseStartedAt = 0
const table: {
  input: string
  expected: string
  observed: string
  probeMs: number
  heapMb: number
}[] = []

// The heap is read after a full collection, so that what is left is what the node keeps.
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void
const heapMb = () => {
  collectGarbage()
  return process.memoryUsage().heapUsed / 2 ** 20
}
let heapAtStart = 0

beforeAll(async () => {
  const config = resolveConfig(
    {},
    {
      data: dir.path,
      genesis: '(in memory)',
      listen: '127.0.0.1:0',
      limits: {
        maxBodyBytes: MAX_BODY,
        frameTimeoutMs: 500,
        handshakeTimeoutMs: 1000,
        requestTimeoutMs: 1000,
        banMs: 1000,
        reconnectMaxMs: 60_000,
        maxInboundPerHost: 64,
      },
    },
  )
  node = await ChronosNode.open({ config, genesis, logger: capture.logger })
  await node.store.appendMany(chain)
  await node.start()
  heapAtStart = heapMb()
  context = {
    node,
    genesis,
    maxBodyBytes: MAX_BODY,
    // Only what the current case caused counts.
    find: (match, timeoutMs) => capture.find(match, timeoutMs, caseStartedAt),
    // Each hostile connection claims its own address, so penalties of one case never ban the next.
    status: (overrides = {}) => {
      const status: Record<string, unknown> = {
        timestamp: Date.now(),
        height: 0,
        address: `127.0.0.1:${nextPort}`,
        genesis: genesis.block_header.hash,
        ...overrides,
      }
      for (const key of Object.keys(status)) if (status[key] === undefined) delete status[key]
      return status
    },
    async open(options = {}) {
      nextPort++
      const peer = await RawPeer.connect(node.address, options.local)
      if (options.handshake) {
        peer.send({ code: 'SHAKEHAND', data: context.status() })
        if (!(await peer.next('SHAKEHAND'))) throw new Error('handshake refused')
      }
      return peer
    },
    async dialedBy() {
      nextPort++
      const { address, accepted } = await RawPeer.listen()
      node.peers.connect(address)
      const server = await accepted
      if (!(await server.next('SHAKEHAND'))) throw new Error('the node did not send SHAKEHAND')
      return server
    },
  }
})

afterAll(async () => {
  console.log(`\nhostile-peer suite against ${node.address}:`)
  const widths = [44, 44, 44, 18]
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 10)).join(' ')
  console.log(row(['input', 'expected', 'observed', 'honest SHAKEHAND', 'heap after']))
  for (const r of table)
    console.log(
      row([
        r.input,
        r.expected,
        r.observed,
        `${r.probeMs.toFixed(0)} ms`,
        `${r.heapMb.toFixed(1)} MiB`,
      ]),
    )
  await node.stop()
  dir.remove()
})

/** An honest peer's handshake, from another loopback address; resolves with its latency. */
async function honestHandshake(): Promise<number> {
  const started = performance.now()
  const peer = await RawPeer.connect(node.address, '127.0.0.3')
  peer.send({ code: 'SHAKEHAND', data: context.status({ address: '127.0.0.3:9' }) })
  const answer = await peer.next('SHAKEHAND')
  peer.close()
  if (!answer) throw new Error('the honest handshake was refused')
  return performance.now() - started
}

describe('a node under hostile input', () => {
  it('has at least 40 distinct hostile inputs', () => {
    expect(new Set(hostileCases.map((c) => c.name)).size).toBeGreaterThanOrEqual(40)
  })

  for (const hostile of hostileCases) {
    it(`${hostile.name}: ${hostile.expected}`, async () => {
      caseStartedAt = capture.mark()
      const observed = await hostile.run(context)
      const probeMs = await honestHandshake()
      table.push({
        input: hostile.name,
        expected: hostile.expected,
        observed,
        probeMs,
        heapMb: heapMb(),
      })
      expect(observed).toBe(hostile.expected)
      expect(probeMs).toBeLessThan(2000)
      expect(node.store.head().block_header.hash).toBe(chain.at(-1)!.block_header.hash)
    })
  }

  it('keeps its store intact through all of it', async () => {
    expect(await node.store.verify()).toMatchObject({ ok: true, height: 20 })
  })

  it('keeps its memory bounded through all of it', () => {
    // Generous: the test's own log capture holds up to 50,000 records. A flood that the
    // node buffered (answers, fetches, orphans) would cost hundreds of MiB.
    expect(heapMb() - heapAtStart).toBeLessThan(64)
  })
})
