import { describe, expect, it } from 'vitest'
import {
  type Block,
  checkValidOnParent,
  checkWellFormed,
  createBlock,
  createGenesis,
  InvalidGenesisError,
  isTimely,
  MAX_CLOCK_AHEAD_MS,
  NotCanonicalizableError,
  readNetworkParams,
  roundEnd,
  roundOf,
  roundStart,
  type Transaction,
  verifyBlockHashes,
} from '../src/index.js'

const genesis = createGenesis({ network: 'testnet', roundMs: 500, timestamp: 1_000_000 })
const clock = readNetworkParams(genesis)

const child = (parent: Block, timestamp: number, transactions: Transaction[] = [{ n: 1 }]) =>
  createBlock({
    height: parent.block_header.height + 1,
    prevHash: parent.block_header.hash,
    timestamp,
    producer: 'node-a',
    transactions,
  })

describe('blocks', () => {
  it('a created block is well-formed and valid on its parent', () => {
    const block = child(genesis, 1_000_600)
    expect(checkWellFormed(block).ok).toBe(true)
    expect(checkValidOnParent(block, genesis, clock)).toEqual({ ok: true })
  })

  it('any changed header member breaks well-formedness', () => {
    const block = child(genesis, 1_000_600)
    const changes: Partial<Block['block_header']>[] = [
      { height: 2 },
      { prev_hash: 'f'.repeat(64) },
      { timestamp: 1_000_601 },
      { tx_root: 'f'.repeat(64) },
      { producer: 'node-b' },
      { hash: 'f'.repeat(64) },
    ]
    for (const change of changes) {
      const mutated = { ...block, block_header: { ...block.block_header, ...change } }
      expect(verifyBlockHashes(mutated).ok, JSON.stringify(change)).toBe(false)
    }
  })

  it('a changed transaction breaks the tx_root', () => {
    const block = child(genesis, 1_000_600)
    const mutated = { ...block, transactions: [{ n: 2 }] }
    expect(verifyBlockHashes(mutated)).toMatchObject({ ok: false, reason: 'TX_ROOT_MISMATCH' })
  })

  it('a transaction with a lone surrogate has no canonical form', () => {
    expect(() => child(genesis, 1_000_600, [{ s: '\ud800' }])).toThrow(NotCanonicalizableError)
    const block = { ...child(genesis, 1_000_600), transactions: [{ s: '\ud800' }] }
    expect(checkWellFormed(block)).toMatchObject({ ok: false, reason: 'NOT_CANONICALIZABLE' })
  })

  it('names the bad member of a schema failure', () => {
    const block = child(genesis, 1_000_600)
    const bad = { ...block, block_header: { ...block.block_header, height: -1 } }
    expect(checkWellFormed(bad)).toMatchObject({
      ok: false,
      reason: 'SCHEMA',
      message: expect.stringMatching(/^block\.block_header\.height/),
    })
  })

  it('is timely up to 15 s ahead of the receiver clock and not beyond', () => {
    const block = child(genesis, 1_000_600)
    expect(isTimely(block, 1_000_600 - MAX_CLOCK_AHEAD_MS)).toBe(true)
    expect(isTimely(block, 1_000_600 - MAX_CLOCK_AHEAD_MS - 1)).toBe(false)
  })

  it('refuses a block in the parent round, with a wrong link or height', () => {
    const first = child(genesis, 1_000_600) // round 1
    expect(checkValidOnParent(child(first, 1_000_700), first, clock)).toMatchObject({
      reason: 'ROUND',
    })
    expect(checkValidOnParent(child(genesis, 1_001_200), first, clock)).toMatchObject({
      reason: 'PREV_HASH',
    })
    expect(checkValidOnParent(child(first, 1_000_500), first, clock)).toMatchObject({
      reason: 'TIMESTAMP',
    })
  })
})

describe('rounds', () => {
  it('round r spans [G + r*round_ms, G + (r+1)*round_ms)', () => {
    expect(roundStart(3, clock)).toBe(1_001_500)
    expect(roundEnd(3, clock)).toBe(1_002_000)
    expect(roundOf(1_001_500, clock)).toBe(3)
    expect(roundOf(1_001_999, clock)).toBe(3)
    expect(roundOf(999_999, clock)).toBe(-1)
  })
})

describe('genesis', () => {
  it('reads the network parameters back', () => {
    expect(clock).toEqual({
      network: 'testnet',
      roundMs: 500,
      genesisTime: 1_000_000,
      genesisHash: genesis.block_header.hash,
    })
  })

  const bad: [string, Block][] = [
    [
      'no parameters',
      createBlock({
        height: 0,
        prevHash: '0'.repeat(64),
        timestamp: 1,
        producer: 'g',
        transactions: [],
      }),
    ],
    [
      'two parameter objects',
      createBlock({
        height: 0,
        prevHash: '0'.repeat(64),
        timestamp: 1,
        producer: 'g',
        transactions: [
          { type: 'chronos/params', network: 'a', round_ms: 500 },
          { type: 'chronos/params', network: 'b', round_ms: 500 },
        ],
      }),
    ],
    [
      'a round under 100 ms',
      createBlock({
        height: 0,
        prevHash: '0'.repeat(64),
        timestamp: 1,
        producer: 'g',
        transactions: [{ type: 'chronos/params', network: 'a', round_ms: 99 }],
      }),
    ],
    [
      'height 1',
      child(genesis, 1_000_600, [{ type: 'chronos/params', network: 'a', round_ms: 500 }]),
    ],
  ]
  it.each(bad)('refuses a genesis with %s', (_, block) => {
    expect(() => readNetworkParams(block)).toThrow(InvalidGenesisError)
  })
})
