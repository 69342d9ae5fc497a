// Multi-host: one chronos-node process per network namespace, 20 ms ± 5 ms
// latency and 1 % loss on what every node sends (tc netem, or where the
// kernel has none, the user-space link emulator), the network split in two
// halves for 10 rounds by taking the link between them down, then healed:
// every node must end on one chain. Needs root and iproute2; elsewhere it
// says why it cannot run. Where links cannot be shaped at all, it says so.
import { execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it, onTestFailed } from 'vitest'
import { run, stopChildren } from './cli-process.js'
import {
  buildTopology,
  chooseShaper,
  type LinkShape,
  netnsUnavailable,
  type Topology,
} from './netns.js'
import { makeGenesis, tempDir } from './network.js'

const unavailable = netnsUnavailable()
if (unavailable) console.log(`multi-host test skipped: ${unavailable}`)
const shaper = unavailable ? undefined : chooseShaper()
if (shaper?.kind === 'emulator')
  console.log(`links shaped by the user-space emulator: ${shaper.why}`)
if (shaper?.kind === 'none')
  console.log(`multi-host test runs without latency and loss: ${shaper.why}`)
const LINK: LinkShape = { delayMs: 20, jitterMs: 5, lossPercent: 1 }
const exec = promisify(execFile)
const ROUND_MS = 500
const NODES = 4
let topology: Topology | undefined
const dir = tempDir('chronos-netns-')
const failureLogs = fileURLToPath(new URL('../test-results/netns-logs', import.meta.url))

afterAll(() => {
  stopChildren()
  topology?.destroy()
  dir.remove()
})

/** GET from a node's API, which listens on the loopback of its namespace. */
async function api(ns: string, path: string): Promise<any> {
  const script = `fetch('http://127.0.0.1:8000${path}').then(r => r.status === 200 ? r.text() : 'null').then(t => process.stdout.write(t))`
  const { stdout } = await exec('ip', ['netns', 'exec', ns, process.execPath, '-e', script])
  return JSON.parse(stdout)
}

describe('nodes on separate hosts (network namespaces)', () => {
  it.skipIf(unavailable !== undefined)(
    'converge to one chain after a partition heals',
    async () => {
      const by = shaper?.kind === 'none' ? undefined : shaper?.kind
      const shaped = by !== undefined
      topology = await buildTopology(NODES, by ? { link: LINK, by } : undefined)
      const { namespaces, addresses } = topology
      const genesisFile = join(dir.path, 'genesis.json')
      writeFileSync(genesisFile, JSON.stringify(makeGenesis(ROUND_MS)))
      const nodes = namespaces.map((ns, i) => {
        const peers = [addresses[(i + 1) % NODES], addresses[(i + 2) % NODES]]
        const args = ['start', '--data', join(dir.path, `n${i}`), '--genesis', genesisFile]
        args.push('--listen', `${addresses[i]}:7000`, '--api', '127.0.0.1:8000')
        args.push('--status-interval-ms', '250', '--log-level', 'debug')
        for (const peer of peers) args.push('--peer', `${peer}:7000`)
        // One producer in each half, so that both halves grow while split.
        if (i === 0 || i === NODES - 1) args.push('--produce', '--tx-rate', '20')
        return run(args, ['ip', 'netns', 'exec', ns])
      })
      onTestFailed(() => {
        // The nodes' own logs say why they did not converge.
        mkdirSync(failureLogs, { recursive: true })
        for (const [i, node] of nodes.entries())
          writeFileSync(join(failureLogs, `n${i}.log`), node.output().stdout)
        console.log(`node logs in ${failureLogs}`)
      })
      const confirmedAt = (i: number, height: number) =>
        nodes[i]!.logLine(
          (l) =>
            (l.msg === 'block confirmed' || l.msg === 'synced') && (l.height as number) >= height,
        )
      await Promise.all(nodes.map((_, i) => confirmedAt(i, 3)))
      topology.partition()
      const splitAt = (await api(namespaces[0]!, '/status')).height as number
      const forked = splitAt + 5
      // Ten rounds apart: each half confirms on its own.
      await Promise.all(nodes.map((_, i) => confirmedAt(i, splitAt + 10)))
      const blockAt = (height: number) =>
        Promise.all(namespaces.map((ns) => api(ns, `/blocks/${height}`)))
      const apart = (await blockAt(forked)).map((block) => block.block_header.hash)
      expect(apart[0]).toBe(apart[1])
      expect(apart[2]).toBe(apart[3])
      expect(apart[0]).not.toBe(apart[3])
      topology.heal()
      // One chain: every node ends up with the same block at the forked height.
      // Only a reorganisation moves a node off its half's block, so look again after each one.
      const healedAt = performance.now()
      for (;;) {
        const marks = nodes.map((node) => node.mark())
        const together = (await blockAt(forked)).map((block) => block.block_header.hash)
        if (new Set(together).size === 1) {
          expect(apart).toContain(together[0])
          console.log(`one chain ${Math.round(performance.now() - healedAt)} ms after healing`)
          break
        }
        await Promise.race(
          nodes.map((node, i) =>
            node.logLine((l) => l.msg === 'reorganised onto a better chain', marks[i]),
          ),
        )
      }
      if (!shaped) return
      // The links really were shaped: frames were lost, and every SHAKEHAND round
      // trip crossed two shaped links (the request's and the answer's).
      const counters = await topology.counters()
      const rtts = (await api(namespaces[0]!, '/status')).peers
        .map((peer: { rttMs?: number }) => peer.rttMs)
        .filter((rtt: number | undefined) => rtt !== undefined) as number[]
      console.log(
        `shaping (${topology.shaper}): ${JSON.stringify(counters)}; node 0 RTTs ${rtts.map(Math.round).join(', ')} ms`,
      )
      expect(counters.dropped).toBeGreaterThan(0)
      expect(rtts.length).toBeGreaterThan(0)
      for (const rtt of rtts) expect(rtt).toBeGreaterThanOrEqual(2 * (LINK.delayMs - LINK.jitterMs))
    },
    120_000,
  )
})
