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
    const target = Math.max(...rest.map((n) => n.store.height())) + 3
    await until(
      rest,
      () => rest.every((n) => n.store.height() >= target),
      60_000,
      `height ${target} without node 0`,
    )
    for (const node of rest) node.setProducing(false)
    await until(rest, () => oneHead(rest), 60_000, 'one head without node 0')
    expect(new Set(rest.map((n) => n.store.height())).size).toBe(1)
  }, 240_000)
})
