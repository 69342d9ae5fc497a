// fast-check generators of valid protocol values.
import fc from 'fast-check'
import type { Block, BlockHeader, Message, Status, Transaction } from '../src/index.js'

export const uint = () => fc.maxSafeNat()

export const hash = () =>
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'))

const port = () => fc.integer({ min: 0, max: 65_535 })

export const address = () =>
  fc.oneof(
    fc.tuple(fc.ipV4(), port()).map(([h, p]) => `${h}:${p}`),
    fc.tuple(fc.ipV6(), port()).map(([h, p]) => `[${h}]:${p}`),
    fc.tuple(fc.domain(), port()).map(([h, p]) => `${h}:${p}`),
  )

export const name = () =>
  fc.string({ minLength: 1, maxLength: 255, unit: 'binary' }).filter((s) => s.isWellFormed())

export const status = (): fc.Arbitrary<Status> =>
  fc.record(
    { timestamp: uint(), height: uint(), address: address(), head: hash(), genesis: hash() },
    { requiredKeys: ['timestamp', 'height', 'address'] },
  )

export const transaction = (): fc.Arbitrary<Transaction> =>
  fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), {
    maxKeys: 6,
  }) as fc.Arbitrary<Transaction>

export const header = (): fc.Arbitrary<BlockHeader> =>
  fc.record({
    height: uint(),
    prev_hash: hash(),
    timestamp: uint(),
    tx_root: hash(),
    producer: name(),
    hash: hash(),
  })

export const block = (): fc.Arbitrary<Block> =>
  fc.record({ block_header: header(), transactions: fc.array(transaction(), { maxLength: 8 }) })

export const message = (): fc.Arbitrary<Message> =>
  fc.oneof(
    status().map((data) => ({ code: 'SHAKEHAND' as const, data })),
    uint().map((data) => ({ code: 'PULL_BLOCK' as const, data })),
    fc.option(block(), { nil: null }).map((data) => ({ code: 'PUSH_BLOCK' as const, data })),
    block().map((data) => ({ code: 'NEW_BLOCK' as const, data })),
    hash().map((data) => ({ code: 'NEW_BLOCK_HASH' as const, data })),
    hash().map((data) => ({ code: 'GET_BLOCK' as const, data })),
    hash().map((data) => ({ code: 'BLOCK_KNOWN' as const, data })),
  )
