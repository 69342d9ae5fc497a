// Section 13 in a network: nodes that know one bootstrap address find their
// peers by exchange, stay connected without it, and converge on one chain.
import { memoryNetwork } from '@chronos/transport'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChronosNode } from '../src/index.js'
import { makeGenesis, oneHead, startNode, until } from './network.js'

const running: ChronosNode[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()))
})

/** Nodes reachable from `from` over live connections (either direction), never through `without`. */
function reachable(nodes: readonly ChronosNode[], from: ChronosNode, without: ChronosNode): number {
  const byAddress = new Map(nodes.map((n) => [n.address, n]))
  const seen = new Set([from])
  const queue = [from]
  while (queue.length) {
    const node = queue.pop()!
    for (const peer of node.peers.peers()) {
      const next = byAddress.get(peer.address)
      if (!next || next === without || seen.has(next)) continue
      seen.add(next)
      queue.push(next)
    }
  }
  return seen.size
}

const outbound = (node: ChronosNode) => node.peers.peers().filter((p) => p.outbound).length

describe('peer exchange across a network', () => {
  it('50 in-memory nodes told only of node 0 each reach 8 outbound peers, stay connected without it, and converge', async () => {
    const genesis = makeGenesis(500)
    const network = memoryNetwork({ latencyMs: 2, jitterMs: 2, seed: 11 })
    const nodes: ChronosNode[] = []
    for (let i = 0; i < 50; i++) {
      const node = await startNode({
        genesis,
        listen: `node-${i}:7000`,
        peers: i === 0 ? [] : ['node-0:7000'],
        produce: i >= 1 && i <= 3,
        transport: network.transport({ host: `node-${i}` }),
        limits: { statusIntervalMs: 200, peerExchangeIntervalMs: 400 },
      })
      nodes.push(node)
      running.push(node)
    }
    const [zero, ...rest] = nodes as [ChronosNode, ...ChronosNode[]]
    await until(
      nodes,
      () => rest.every((n) => outbound(n) >= 8),
      120_000,
      `every node at 8 outbound peers (fewest now: ${Math.min(...rest.map(outbound))})`,
    )
    expect(rest.every((n) => n.status().addressBook > 0)).toBe(true)
    expect(reachable(nodes, rest[0]!, zero)).toBe(49)
    await zero.stop()
    running.splice(running.indexOf(zero), 1)
    // The network moves on without node 0: its producers add 3 blocks, then stop, and every
    // node reaches them. Stopping first leaves finite work (relay and sync), which a starved
    // process finishes late but finishes; 49 nodes keeping pace with 500 ms rounds it may not.
    const target = Math.max(...rest.map((n) => n.store.height())) + 3
    const producers = rest.slice(0, 3)
    await until(
      producers,
      () => producers.every((n) => n.store.height() >= target),
      60_000,
      `height ${target} on the producers without node 0`,
    )
    for (const node of rest) node.setProducing(false)
    await until(
      rest,
      () => oneHead(rest) && rest[0]!.store.height() >= target,
      120_000,
      `one head at height ${target} or more without node 0`,
    ).catch((error: Error) => {
      const behind = rest.filter((n) => n.store.height() < target)
      throw new Error(
        `${error.message}: ${new Set(rest.map((n) => n.store.head().block_header.hash)).size} heads, ${behind.length} nodes below ${target}`,
      )
    })
    expect(new Set(rest.map((n) => n.store.height())).size).toBe(1)
  }, 300_000)
})
