// Mempool bounds and the producer's envelope bound (issue 10 items 1 and 4), no network.
import { createGenesis, blockEnvelopeBytes as envelopeBytes } from '@chronos/codec'
import { describe, expect, it } from 'vitest'
import { Mempool } from '../src/mempool.js'
import { createProducer } from '../src/producer.js'

const MiB = 1024 * 1024
const genesis = createGenesis({ network: 'production-test', roundMs: 1000, timestamp: 1_000 })
const bigTransaction = (i: number, bytes = 60_000) => ({ i, pad: 'x'.repeat(bytes) })

describe('mempool bounded in bytes', () => {
  it('10,000 x 60 KB transactions: refused FULL past the byte bound, bytes held within it', () => {
    const pool = new Mempool({
      maxTransactions: 10_000,
      maxBytes: 32 * MiB,
      maxTransactionBytes: 8 * MiB,
    })
    const refusals = new Map<string, number>()
    for (let i = 0; i < 10_000; i++) {
      const result = pool.add(bigTransaction(i))
      if ('refused' in result) refusals.set(result.refused, (refusals.get(result.refused) ?? 0) + 1)
    }
    expect(pool.bytes).toBeLessThanOrEqual(32 * MiB)
    expect(pool.size).toBe(Math.floor((32 * MiB) / 60_020))
    expect(refusals.get('FULL')).toBe(10_000 - pool.size)
  })

  it('refuses TOO_LARGE a transaction that no block could carry', () => {
    const pool = new Mempool({ maxTransactions: 10, maxBytes: 64 * MiB, maxTransactionBytes: 1000 })
    expect(pool.add(bigTransaction(1, 2000))).toEqual({ refused: 'TOO_LARGE' })
    expect(pool.size).toBe(0)
  })

  it('a reorg returns removed transactions but keeps those the new chain confirmed out', () => {
    const pool = new Mempool({ maxTransactions: 10, maxBytes: MiB, maxTransactionBytes: MiB })
    const [a, b] = [{ n: 'a' }, { n: 'b' }]
    const block = (transactions: object[]) => ({ ...genesis, transactions }) as typeof genesis
    pool.headChanged([block([b])], [block([a, b])])
    expect(pool.peek(10)).toEqual([a])
    expect(pool.bytes).toBe(JSON.stringify(a).length)
  })
})

describe('the producer never packs a block over the body limit (item 1)', () => {
  const context = { round: 1, parent: genesis, timestamp: 2_000 }

  it('150 x 60 KB POSTed transactions make a block of at most 8 MiB; the rest wait', () => {
    const maxBodyBytes = 8 * MiB
    const mempool = new Mempool({
      maxTransactions: 10_000,
      maxBytes: 64 * MiB,
      maxTransactionBytes: maxBodyBytes,
    })
    for (let i = 0; i < 150; i++) mempool.add(bigTransaction(i))
    const produce = createProducer({
      name: () => '127.0.0.1:1',
      mempool,
      maxTransactions: 1000,
      maxBodyBytes,
      txRate: 0,
      roundMs: 1000,
    })
    const block = produce(context)
    const bytes = envelopeBytes(block)
    console.log(
      `150 x 60 KB: block of ${block.transactions.length} transactions, envelope ${(bytes / MiB).toFixed(2)} MiB (limit 8 MiB)`,
    )
    expect(bytes).toBeLessThanOrEqual(maxBodyBytes)
    // Packed close to the limit, not conservatively: within one transaction of it.
    expect(maxBodyBytes - bytes).toBeLessThan(60_100)
    expect(block.transactions.length).toBeLessThan(150)
  })

  it('synthetic transactions stop at the limit too', () => {
    const maxBodyBytes = 64 * 1024
    const produce = createProducer({
      name: () => '127.0.0.1:1',
      mempool: new Mempool({ maxTransactions: 10, maxBytes: MiB, maxTransactionBytes: MiB }),
      maxTransactions: 100_000,
      maxBodyBytes,
      txRate: 1_000_000,
      roundMs: 1000,
    })
    expect(envelopeBytes(produce(context))).toBeLessThanOrEqual(maxBodyBytes)
  })
})
