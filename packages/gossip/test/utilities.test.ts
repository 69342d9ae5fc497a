import { createBlock, seededRandom } from '@chronos/codec'
import { describe, expect, it } from 'vitest'
import { AnnounceBudget } from '../src/announce-budget.js'
import { OrphanPool } from '../src/orphan-pool.js'
import { chooseFirst } from '../src/shuffle.js'

describe('chooseFirst (partial Fisher-Yates)', () => {
  it('keeps every item and only reorders', () => {
    const items = Array.from({ length: 20 }, (_, i) => i)
    const out = chooseFirst([...items], 5, Math.random)
    expect([...out].sort((a, b) => a - b)).toEqual(items)
  })

  it('chooses each item first equally often (uniform within 3 %)', () => {
    const n = 5
    const counts = new Array(n).fill(0)
    const random = seededRandom(7)
    const trials = 50_000
    for (let t = 0; t < trials; t++) counts[chooseFirst([0, 1, 2, 3, 4], 1, random)[0]!]++
    for (const count of counts) expect(Math.abs(count / trials - 1 / n)).toBeLessThan(0.03)
  })

  it('k of 0 leaves the order; k past the length takes all; random = 1 stays in bounds', () => {
    expect(chooseFirst([1, 2, 3], 0, () => 0.5)).toEqual([1, 2, 3])
    expect(chooseFirst([1, 2, 3], 10, () => 0).sort()).toEqual([1, 2, 3])
    expect(chooseFirst([1, 2, 3], 3, () => 1).sort()).toEqual([1, 2, 3])
  })
})

describe('AnnounceBudget', () => {
  it('bounds each announcer per round, then resets with the round', () => {
    const budget = new AnnounceBudget(3, 100)
    const taken = Array.from({ length: 5 }, () => budget.take('a', 1))
    expect(taken).toEqual([true, true, true, false, false])
    expect(budget.take('b', 1)).toBe(true)
    expect(budget.take('a', 2)).toBe(true)
  })

  it('bounds all announcers together: 40 addresses cannot exceed the total', () => {
    const budget = new AnnounceBudget(64, 100)
    let taken = 0
    for (let i = 0; i < 200_000; i++) if (budget.take(`peer-${i % 40}`, 7)) taken++
    expect(taken).toBe(100)
  })
})

describe('OrphanPool', () => {
  const block = (tag: string, prev: string, height = 5) =>
    createBlock({ height, prevHash: prev, timestamp: 10, producer: tag, transactions: [] })
  const p = 'a'.repeat(64)
  const q = 'b'.repeat(64)

  it('hands back the children of a parent in the same round only', () => {
    const pool = new OrphanPool<string>(8)
    pool.hold(block('x', p), 'peer', 3)
    pool.hold(block('y', q), 'peer', 3)
    pool.hold(block('z', p), 'peer', 2)
    expect(pool.takeChildrenOf(p, 3).map((e) => e.block.block_header.producer)).toEqual(['x'])
    expect(pool.size).toBe(2)
    pool.pruneBefore(3)
    expect(pool.size).toBe(1)
  })

  it('is bounded: the oldest is evicted', () => {
    const pool = new OrphanPool<string>(2)
    const blocks = ['a', 'b', 'c'].map((t) => block(t, p))
    for (const b of blocks) pool.hold(b, 'peer', 1)
    expect(pool.size).toBe(2)
    expect(pool.has(blocks[0]!.block_header.hash)).toBe(false)
  })
})
