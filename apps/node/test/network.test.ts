import type { Block } from '@chronos/codec'
import { memoryNetwork, tcpTransport } from '@chronos/transport'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChronosNode } from '../src/index.js'
import {
  chainAbove,
  compareChains,
  heads,
  history,
  makeGenesis,
  oneHead,
  rounds,
  Switchboard,
  startNode,
  tempDir,
  until,
} from './network.js'

const running = new Set<ChronosNode>()
const cleanups: (() => void)[] = []
afterEach(async () => {
  await Promise.all([...running].map((n) => n.stop()))
  running.clear()
  for (const cleanup of cleanups.splice(0)) cleanup()
})

async function start(options: Parameters<typeof startNode>[0]): Promise<ChronosNode> {
  const node = await startNode(options)
  running.add(node)
  return node
}

/** Peers of node i in a ring with chords: the two nodes before it (the last also closes the ring). */
function ringPeers(addresses: string[], i: number, count: number): string[] {
  const peers = [addresses[i - 1], addresses[i - 2]].filter((a): a is string => a !== undefined)
  if (i === count - 1 && count > 2) peers.push(addresses[0]!)
  return peers
}

/** Records, per node and round, the candidates it saw and the block it confirmed. */
function recordRounds(node: ChronosNode) {
  const seen = new Map<number, Block[]>()
  const confirmed = new Map<number, Block>()
  node.gossip.on('candidate', (block) => {
    const round = node.gossip.currentRound
    seen.set(round, [...(seen.get(round) ?? []), block])
  })
  node.gossip.on('confirmed', (block, round) => confirmed.set(round, block))
  return { seen, confirmed }
}

/** Counts the rounds `node` ends from now on (a confirmation or an empty round each). */
function roundsEnded(node: ChronosNode): () => number {
  let count = 0
  const tick = () => count++
  node.gossip.on('confirmed', tick).on('empty', tick)
  return () => count
}

describe('a Chronos network', () => {
  it('5 nodes over TCP (ring with chords, 3 producers) converge, each confirming its best candidate', async () => {
    const genesis = makeGenesis(300)
    const nodes: ChronosNode[] = []
    const addresses: string[] = []
    for (let i = 0; i < 5; i++) {
      const node = await start({ genesis, peers: ringPeers(addresses, i, 5), produce: i % 2 === 0 })
      nodes.push(node)
      addresses.push(node.address)
    }
    const records = nodes.map(recordRounds)
    // Each node must confirm at least one round by gossip for the check below to say anything
    // about it; under load a node can spend its first rounds catching up by sync, so wait for it.
    await until(
      nodes,
      () =>
        nodes.every((n) => n.store.height() >= 10) &&
        records.every((r) => r.confirmed.size >= 1) &&
        records.reduce((sum, r) => sum + r.confirmed.size, 0) >= 10,
      90_000,
      'height 10, a round confirmed by gossip on every node, 10 such confirmations in all',
    )
    for (const node of nodes) node.setProducing(false)
    await until(nodes, () => oneHead(nodes), 30_000, 'one head')
    expect(new Set(nodes.map((n) => n.store.height())).size).toBe(1)
    let checked = 0
    for (const { seen, confirmed } of records) {
      for (const [round, block] of confirmed) {
        // The best candidate on the parent it confirmed on: when sync moved the head during
        // the round, the pick is the best kept candidate on the new head (issue 11).
        const parent = block.block_header.prev_hash
        const best = (seen.get(round) ?? [])
          .filter((b) => b.block_header.prev_hash === parent)
          .map((b) => b.block_header.hash)
          .sort()[0]
        expect(block.block_header.hash).toBe(best)
        checked++
      }
    }
    // Waited for above: under load some rounds reach a node late and come by sync instead.
    expect(checked).toBeGreaterThanOrEqual(10)
  })

  it('a late joiner syncs 500 blocks from several peers, one of which dies mid-sync', async () => {
    const roundMs = 100
    const genesis = makeGenesis(roundMs, Date.now() - 600 * roundMs)
    const chain = history(genesis, 500)
    const sources: ChronosNode[] = []
    for (let i = 0; i < 3; i++) sources.push(await start({ genesis, preload: chain }))
    const dir = tempDir('chronos-joiner-')
    cleanups.push(dir.remove)
    const joiner = await start({
      genesis,
      data: dir.path,
      peers: sources.map((s) => s.address),
      limits: { syncWindow: 16 },
    })
    let servingPeers = 0
    joiner.on('progress', (p) => {
      servingPeers = Math.max(servingPeers, p.peers)
    })
    const victim = sources[0]!
    const off = joiner.store.onHead(({ head }) => {
      if (head.block_header.height === 150) void victim.stop()
    })
    await until([joiner], () => joiner.store.height() === 500, 60_000, 'height 500')
    off()
    expect(joiner.store.head().block_header.hash).toBe(chain.at(-1)!.block_header.hash)
    expect(await joiner.store.verify()).toMatchObject({ ok: true, height: 500 })
    expect(servingPeers).toBeGreaterThanOrEqual(2)
  })

  it('heals a partition: one head everywhere, on the better chain by the spec order', async () => {
    const genesis = makeGenesis(500)
    const board = new Switchboard()
    const nodes: ChronosNode[] = []
    const addresses: string[] = []
    for (let i = 0; i < 6; i++) {
      let self = ''
      const node = await start({
        genesis,
        peers: ringPeers(addresses, i, 6),
        produce: i !== 2 && i !== 5,
        transport: board.wrap(tcpTransport(), () => self),
      })
      self = node.address
      nodes.push(node)
      addresses.push(node.address)
    }
    const [halfA, halfB] = [nodes.slice(0, 3), nodes.slice(3)]
    await until(
      nodes,
      () => nodes.every((n) => n.store.height() >= 3) && oneHead(nodes),
      60_000,
      'start',
    )
    const base = Math.min(...nodes.map((n) => n.store.height()))
    board.partition(addresses.slice(0, 3), addresses.slice(3))
    await rounds(nodes[0]!, 10)
    // Which chain is better is judged on the chains as they meet, so production stops first and
    // every node ends two rounds after that: a candidate still in flight cannot grow one half
    // after the read. (Producing on, a half whose round-end timer fired first under load was one
    // block longer at the heal and won by length: stress run on a7a1d28.)
    for (const node of nodes) node.setProducing(false)
    await Promise.all(nodes.map((node) => rounds(node, 2)))
    await until(halfA, () => oneHead(halfA), 30_000, 'half A settles')
    await until(halfB, () => oneHead(halfB), 30_000, 'half B settles')
    const chainA = await chainAbove(halfA[0]!, base)
    const chainB = await chainAbove(halfB[0]!, base)
    expect(chainA).not.toEqual(chainB)
    const better = compareChains(chainA, chainB) < 0 ? chainA : chainB
    const ended = nodes.map(roundsEnded)
    const healedAt = nodes[0]!.gossip.currentRound
    board.heal()
    await until(nodes, () => oneHead(nodes), 60_000, 'one head after healing')
    // How fast is reported, not asserted: with six nodes in one process that the machine starved
    // (nice 10 beside a saturating stress run) this took 7 rounds, in 1 of 3 runs. A bound in
    // rounds is an invariant for the soak, where each node has its own process.
    console.log(
      `healed: one head after ${nodes[0]!.gossip.currentRound - healedAt} rounds of the clock; rounds ended per node ${ended.map((count) => count()).join(',')}`,
    )
    const final = await chainAbove(nodes[0]!, base)
    expect(final).toEqual(better)
  })

  it('a stopped node restarts on its data directory and catches up', async () => {
    const genesis = makeGenesis(200)
    const dir = tempDir('chronos-restart-')
    cleanups.push(dir.remove)
    const a = await start({ genesis, produce: true })
    const b = await start({ genesis, peers: [a.address], produce: true })
    let c = await start({ genesis, peers: [a.address, b.address], data: dir.path })
    const listen = c.address
    await until([a, b, c], () => c.store.height() >= 3 && oneHead([a, b, c]), 30_000, 'c at 3')
    await c.stop()
    running.delete(c)
    const stoppedAt = c.store.height()
    await until([a], () => a.store.height() >= stoppedAt + 5, 30_000, 'network moves on')
    c = await start({ genesis, peers: [a.address, b.address], data: dir.path, listen })
    // It resumes from its stored head, not from genesis.
    expect(c.store.height()).toBeGreaterThanOrEqual(stoppedAt)
    a.setProducing(false)
    b.setProducing(false)
    await until([a, b, c], () => oneHead([a, b, c]), 30_000, 'caught up')
    expect(c.store.height()).toBeGreaterThanOrEqual(stoppedAt + 5)
  })

  it('100 nodes over the in-memory transport converge', async () => {
    const genesis = makeGenesis(600)
    const network = memoryNetwork({ latencyMs: 5, jitterMs: 5, seed: 42 })
    const nodes: ChronosNode[] = []
    let seed = 7
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (let i = 0; i < 100; i++) {
      const peers = new Set<string>()
      for (let k = 0; k < Math.min(i, 3); k++) peers.add(nodes[Math.floor(random() * i)]!.address)
      nodes.push(
        await start({
          genesis,
          listen: `node-${i}:7000`,
          peers: [...peers],
          produce: i < 3,
          transport: network.transport({ host: `node-${i}` }),
          limits: { statusIntervalMs: 1000 },
        }),
      )
    }
    // Production stops once the producers hold 5 blocks: what is left (relay and sync to 100
    // nodes) is finite work, which a starved process finishes late but does finish. Waiting for
    // height 5 everywhere while producing asked a process at a fraction of a core to keep pace
    // with 600 ms rounds on 100 nodes.
    const producers = nodes.slice(0, 3)
    await until(
      producers,
      () => producers.every((n) => n.store.height() >= 5),
      60_000,
      'height 5 on the 3 producers',
    )
    for (const node of nodes) node.setProducing(false)
    const lagging = () => {
      const top = Math.max(...nodes.map((n) => n.store.height()))
      const behind = nodes.filter((n) => n.store.height() < top)
      return `${heads(nodes).size} heads, ${behind.length} nodes below height ${top} (e.g. ${behind
        .slice(0, 5)
        .map((n) => `${n.address}@${n.store.height()}`)
        .join(', ')})`
    }
    await until(
      nodes,
      () => oneHead(nodes) && nodes[0]!.store.height() >= 5,
      150_000,
      'one head at height 5 or more on all 100 nodes',
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${lagging()}`)
    })
    expect(nodes.every((n) => n.store.height() === nodes[0]!.store.height())).toBe(true)
  }, 240_000)
})
