import { describe, expect, it } from 'vitest'
import { type Delta, NetworkView } from '../src/index.js'

const hash = (c: string) => c.repeat(64)

describe('NetworkView', () => {
  it('times how long a block takes to reach 50, 90 and 100 % of the nodes up', () => {
    const view = new NetworkView()
    for (const n of ['a', 'b', 'c', 'd']) view.updateNode(n, { height: 1, head: hash('1') })
    view.observe('a', { hash: hash('x'), at: 1000, arrival: 'produced', height: 2, producer: 'a' })
    view.observe('b', { hash: hash('x'), at: 1040, arrival: 'push', via: 'a' })
    view.observe('c', { hash: hash('x'), at: 1030, arrival: 'announced', via: 'a' })
    let block = view.snapshot().blocks[0]!
    expect([block.t50, block.t90, block.t100]).toEqual([40, null, null])
    view.observe('c', { hash: hash('x'), at: 1090, arrival: 'push', via: 'b' })
    view.observe('d', { hash: hash('x'), at: 1100, arrival: 'seen' })
    block = view.snapshot().blocks[0]!
    expect([block.t50, block.t90, block.t100]).toEqual([40, 100, 100])
    expect(block).toMatchObject({ height: 2, producer: 'a', confirmed: false })
  })

  it("prefers a node's own report over what the bridge saw over P2P", () => {
    const view = new NetworkView()
    view.observe('a', { hash: hash('x'), at: 2000, arrival: 'seen' })
    view.observe('a', {
      hash: hash('x'),
      at: 1500,
      arrival: 'push',
      via: 'b',
      reported: true,
      confirmed: true,
    })
    const block = view.snapshot().blocks[0]!
    expect(block.reach).toEqual([{ node: 'a', at: 1500, via: 'b', arrival: 'push' }])
    expect(block.confirmed).toBe(true)
  })

  it('reports forks, reorgs and nodes going down, and batches changes into one delta', () => {
    const view = new NetworkView()
    const deltas: Delta[] = []
    view.on('delta', (d) => deltas.push(d))
    view.updateNode('a', { height: 5, head: hash('a') })
    view.updateNode('b', { height: 5, head: hash('b') })
    view.updateNode('a', { height: 5, head: hash('b') })
    view.nodeDown('b')
    view.flush()
    view.flush()
    expect(deltas).toHaveLength(1)
    expect(deltas[0]!.events!.map((e) => e.kind)).toEqual(['fork', 'reorg', 'node-down'])
    expect(deltas[0]!.nodes!.map((n) => [n.address, n.up])).toEqual([
      ['a', true],
      ['b', false],
    ])
  })

  it("takes our nodes' own reorg reports instead of guessing from their heads", () => {
    const view = new NetworkView()
    const deltas: Delta[] = []
    view.on('delta', (d) => deltas.push(d))
    view.updateNode('ours', { height: 7, head: hash('x'), source: 'api' })
    // A move to a longer fork looks like progress from the head alone; the report says otherwise.
    view.updateNode('ours', { height: 8, head: hash('y'), source: 'api' })
    view.updateNode('ours', { height: 7, head: hash('z'), source: 'api' })
    view.reorg('ours', { forkHeight: 5, removed: 2, height: 8, head: hash('y') })
    view.flush()
    const events = deltas[0]!.events!
    expect(events.map((e) => e.kind)).toEqual(['reorg'])
    expect(events[0]!.detail).toContain('replaced 2 blocks above 5')
  })

  it('counts a block a node reached by sync (its head) as reached, and says it came by sync', () => {
    let now = 1000
    const view = new NetworkView({ now: () => now })
    for (const n of ['a', 'b']) view.updateNode(n, { height: 1, head: hash('1') })
    view.observe('a', { hash: hash('x'), at: 1000, arrival: 'produced', height: 2 })
    expect(view.snapshot().blocks[0]!.t100).toBeNull()
    now = 1300
    // b never saw x gossiped; its head moved onto it (sync).
    view.updateNode('b', { height: 2, head: hash('x') })
    const block = view.snapshot().blocks[0]!
    expect(block.reach.find((r) => r.node === 'b')).toMatchObject({ arrival: 'synced', at: 1300 })
    expect(block.t100).toBe(300)
    // A head seen before the block itself counts too.
    view.updateNode('a', { height: 3, head: hash('y') })
    view.observe('b', { hash: hash('y'), at: 1400, arrival: 'push', via: 'a' })
    const y = view.snapshot().blocks.find((b) => b.hash === hash('y'))!
    expect(y.reach.map((r) => [r.node, r.arrival]).sort()).toEqual([
      ['a', 'synced'],
      ['b', 'push'],
    ])
  })

  it("keeps each node's uptime share and the 95th and 99th percentile times", () => {
    let now = 0
    const view = new NetworkView({ now: () => now })
    view.updateNode('a', { height: 1 })
    now = 1000
    view.nodeDown('a')
    now = 2000
    view.updateNode('a', { height: 1 })
    expect(view.snapshot().nodes[0]!.uptime).toBeCloseTo(0.5)
    for (let i = 0; i < 99; i++) view.updateNode(`n${i}`, { height: 1 })
    for (let i = 0; i < 100; i++)
      view.observe(i ? `n${i - 1}` : 'a', { hash: hash('z'), at: 10_000 + i, arrival: 'push' })
    const z = view.snapshot().blocks[0]!
    expect([z.t50, z.t90, z.t95, z.t99, z.t100]).toEqual([49, 89, 94, 98, 99])
  })

  it('keeps a bounded number of blocks', () => {
    const view = new NetworkView({ maxBlocks: 3 })
    for (let i = 0; i < 10; i++)
      view.observe('a', { hash: String(i).repeat(64), at: i, arrival: 'push' })
    expect(view.snapshot().blocks.map((b) => b.hash[0])).toEqual(['7', '8', '9'])
  })
})
