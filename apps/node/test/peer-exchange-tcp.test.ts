// Peer exchange as operators run it: node processes over TCP that each know
// one bootstrap address converge, and a node restarted with no peers at all
// finds them again from the address book it persisted.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { NodeStatus } from '../src/index.js'
import { run, stopChildren } from './cli-process.js'
import { tempDir } from './network.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  stopChildren()
  for (const cleanup of cleanups.splice(0)) cleanup()
})

interface Started {
  p2p: string
  api: string
  process: ReturnType<typeof run>
}

async function startNode(
  dir: string,
  name: string,
  genesisFile: string,
  extra: string[],
): Promise<Started> {
  const config = join(dir, `${name}.json`)
  writeFileSync(
    config,
    JSON.stringify({ limits: { statusIntervalMs: 200, peerExchangeIntervalMs: 300 } }),
  )
  const process = run([
    'start',
    '--config',
    config,
    '--data',
    join(dir, name),
    '--genesis',
    genesisFile,
    '--listen',
    '127.0.0.1:0',
    '--api',
    '127.0.0.1:0',
    ...extra,
  ])
  const started = await process.logLine((line) => line.msg === 'node started')
  const api = await process.logLine((line) => line.msg === 'API listening')
  return { p2p: String(started.address), api: String(api.api), process }
}

async function status(node: Started): Promise<NodeStatus> {
  return (await (await fetch(`${node.api}/status`)).json()) as NodeStatus
}

/** The hash of the confirmed block at `height` on `node` (undefined if it has none). */
async function hashAt(node: Started, height: number): Promise<string | undefined> {
  const response = await fetch(`${node.api}/blocks/${height}`)
  if (response.status !== 200) return undefined
  return ((await response.json()) as { block_header: { hash: string } }).block_header.hash
}

/**
 * One chain: every node holds the same block at `height`. Heads of producing processes read
 * one request at a time agree only between two rounds, which a starved machine may never hit
 * while polling; a block two rounds deep stays put.
 */
async function sameBlockAt(nodes: Started[], height: number): Promise<boolean> {
  const hashes = await Promise.all(nodes.map((n) => hashAt(n, height)))
  return hashes[0] !== undefined && hashes.every((h) => h === hashes[0])
}

/** Polls the nodes' /status (each poll is a real request) until `done` holds of all of them. */
async function untilStatuses(
  nodes: Started[],
  done: (all: NodeStatus[]) => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 120_000,
): Promise<NodeStatus[]> {
  const deadline = Date.now() + timeoutMs
  let last: NodeStatus[] = []
  while (Date.now() < deadline) {
    last = await Promise.all(nodes.map(status))
    if (await done(last)) return last
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`timed out waiting for ${what}; heights ${last.map((s) => s.height).join(',')}`)
}

describe('peer exchange over TCP', () => {
  it('12 node processes that each know one bootstrap address converge; a node restarted with no peers finds them from its book', async () => {
    const dir = tempDir('chronos-pex-')
    cleanups.push(dir.remove)
    const genesisFile = join(dir.path, 'genesis.json')
    const genesisRun = run([
      'genesis',
      '--network',
      'pex',
      '--round-ms',
      '500',
      '--out',
      genesisFile,
    ])
    expect(await genesisRun.exited).toBe(0)
    const bootstrap = await startNode(dir.path, 'n0', genesisFile, ['--produce', '--tx-rate', '2'])
    const nodes = [bootstrap]
    for (let i = 1; i < 12; i++)
      nodes.push(
        await startNode(dir.path, `n${i}`, genesisFile, [
          '--peer',
          bootstrap.p2p,
          ...(i < 3 ? ['--produce'] : []),
        ]),
      )
    const converged = await untilStatuses(
      nodes,
      async (all) =>
        all.every((s) => s.height >= 7) &&
        all.every((s) => s.peers.filter((p) => p.direction !== 'inbound').length >= 3) &&
        (await sameBlockAt(nodes, 5)),
      'one chain (the same block at height 5, every node at 7) and 3 outbound peers everywhere',
    )
    // Beyond the bootstrap: each node learned addresses by exchange.
    expect(converged.slice(1).every((s) => s.addressBook > 0)).toBe(true)
    // Restart node 7 on its data directory with no --peer at all.
    const seven = nodes[7]!
    seven.process.child.kill('SIGTERM')
    expect(await seven.process.exited).toBe(0)
    const again = await startNode(dir.path, 'n7', genesisFile, [])
    const [restarted] = await untilStatuses(
      [again],
      ([s]) => s!.peers.filter((p) => p.direction !== 'inbound').length >= 2,
      'the restarted node dialing peers from its book',
    )
    expect(restarted!.addressBook).toBeGreaterThan(0)
    const others = nodes.filter((n) => n !== seven)
    // A block the others confirmed after the restart: the restarted node must hold it too.
    const after = Math.max(...(await Promise.all(others.map(status))).map((s) => s.height)) + 1
    await untilStatuses(
      [...others, again],
      async (all) =>
        all.every((s) => s.height >= after + 2) && (await sameBlockAt([...others, again], after)),
      `the restarted node on the others' chain (the same block at height ${after})`,
    )
  }, 300_000)
})
