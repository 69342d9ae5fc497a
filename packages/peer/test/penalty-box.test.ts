// Penalties keyed by what a peer chooses (keys, addresses) stay bounded.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { generateNodeKey } from '@chronos/codec'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PENALTY_LIMITS, PenaltyBox } from '../src/index.js'
import { startManager } from './helpers.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const heapMb = () => {
  gc()
  return process.memoryUsage().heapUsed / 2 ** 20
}

describe('PenaltyBox', () => {
  it('bans at the threshold for banMs, then forgets the ban', () => {
    let now = 1_000
    const box = new PenaltyBox(
      { ...DEFAULT_PENALTY_LIMITS, banThreshold: 2, banMs: 500 },
      () => now,
    )
    expect(box.penalise('k')).toEqual({ strikes: 1, banned: false })
    expect(box.bannedFor('k')).toBe(0)
    expect(box.penalise('k')).toEqual({ strikes: 2, banned: true })
    expect(box.bannedFor('k')).toBe(500)
    now += 499
    expect(box.bannedFor('k')).toBe(1)
    now += 1
    expect(box.bannedFor('k')).toBe(0)
    expect(box.size.banned).toBe(0)
  })

  it('100,000 distinct identities: both tables stay at their bounds, memory flat', () => {
    const limits = { ...DEFAULT_PENALTY_LIMITS, banThreshold: 2 }
    const box = new PenaltyBox(limits)
    const before = heapMb()
    for (let i = 0; i < 100_000; i++) {
      const id = `${i.toString(16).padStart(64, '0')}`
      box.penalise(id)
      if (i % 2 === 0) box.penalise(id)
    }
    expect(box.size.struck).toBeLessThanOrEqual(limits.maxStruck)
    expect(box.size.banned).toBeLessThanOrEqual(limits.maxBanned)
    // Bounded tables of ~5,000 64-character ids: well under 5 MiB, whatever the count offered.
    expect(heapMb() - before).toBeLessThan(5)
  })
})

describe('PeerManager penalties', () => {
  it('penalising 100,000 distinct keys keeps its tables bounded', async () => {
    const manager = await startManager({
      limits: { maxStruck: 1000, maxBanned: 100, banThreshold: 2 },
    })
    const before = heapMb()
    const key = generateNodeKey().publicKey
    for (let i = 0; i < 100_000; i++)
      manager.penalise(`${key.slice(0, 56)}${i.toString(16).padStart(8, '0')}`, 'TEST')
    expect(manager.penaltyTableSize.struck).toBeLessThanOrEqual(1000)
    expect(manager.penaltyTableSize.banned).toBeLessThanOrEqual(100)
    expect(heapMb() - before).toBeLessThan(5)
  })
})
