// Multi-host: one chronos-node process per network namespace, 20 ms ± 5 ms
// latency and 1 % loss on every link (tc netem), the network split in two
// halves for 10 rounds by taking the link between them down, then healed:
// every node must end on one chain. Needs root and iproute2; elsewhere it
// says why it cannot run. Where the kernel has no netem, links are unshaped
// and it says so.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { run, stopChildren } from './cli-process.js'
import { buildTopology, netemUnavailable, netnsUnavailable, type Topology } from './netns.js'
import { makeGenesis, tempDir } from './network.js'

const unavailable = netnsUnavailable()
if (unavailable) console.log(`multi-host test skipped: ${unavailable}`)
const noNetem = unavailable ? undefined : netemUnavailable()
if (noNetem) console.log(`multi-host test runs without latency and loss: ${noNetem}`)
const exec = promisify(execFile)
const ROUND_MS = 500
const NODES = 4
let topology: Topology | undefined
const dir = tempDir('chronos-netns-')

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
      topology = buildTopology(NODES, noNetem ? undefined : ['delay', '20ms', '5ms', 'loss', '1%'])
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
      const confirmedAt = (i: number, height: number) =>
        nodes[i]!.logLine(
          (l) =>
            (l.msg === 'block confirmed' || l.msg === 'synced') && (l.height as number) >= height,
        )
      await Promise.all(nodes.map((_, i) => confirmedAt(i, 3)))
      topology.partition()
      const splitAt = (await api(namespaces[0]!, '/status')).height as number
      // Ten rounds apart: each half confirms on its own.
      await Promise.all([confirmedAt(0, splitAt + 10), confirmedAt(NODES - 1, splitAt + 10)])
      const [a, b] = await Promise.all([
        api(namespaces[0]!, `/blocks/${splitAt + 5}`),
        api(namespaces[NODES - 1]!, `/blocks/${splitAt + 5}`),
      ])
      expect(a.block_header.hash).not.toBe(b.block_header.hash)
      topology.heal()
      // One chain: every node holds the same block a few rounds past the healing.
      const healedHeight = (await api(namespaces[0]!, '/status')).height as number
      const probe = healedHeight + 4
      await Promise.all(nodes.map((_, i) => confirmedAt(i, probe)))
      const hashes = new Set<string>()
      for (const ns of namespaces) hashes.add((await api(ns, `/blocks/${probe}`)).block_header.hash)
      expect(hashes.size).toBe(1)
    },
    120_000,
  )
})
