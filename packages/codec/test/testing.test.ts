import { describe, expect, it } from 'vitest'
import {
  checkValidOnParent,
  createGenesis,
  nodeKeyFromSeed,
  readNetworkParams,
  roundOf,
  sha256Hex,
  verifySeal,
} from '../src/index.js'
import { buildChain, chainBuilder, nextBlock } from '../src/testing.js'

const genesis = createGenesis({
  network: 'testing-test',
  roundMs: 1000,
  timestamp: 1_700_000_000_123,
})
const network = readNetworkParams(genesis)

describe('codec/testing chain builders', () => {
  it('builds a chain valid on its parents, one block a round, offsetMs into each round', () => {
    const chain = buildChain(genesis, 5, { network, offsetMs: 5 })
    let parent = genesis
    for (const [i, block] of chain.entries()) {
      expect(checkValidOnParent(block, parent, network)).toEqual({ ok: true })
      expect(block.block_header.height).toBe(i + 1)
      expect(roundOf(block.block_header.timestamp, network)).toBe(i + 1)
      expect(block.block_header.timestamp - network.genesisTime).toBe((i + 1) * 1000 + 5)
      parent = block
    }
  })

  it('makes different forks from one parent by tag, and puts `transactions` in each block', () => {
    const a = nextBlock(genesis, { network, tag: 'a', transactions: 3 })
    const b = nextBlock(genesis, { network, tag: 'b', transactions: 3 })
    expect(a.block_header.hash).not.toBe(b.block_header.hash)
    expect(a.transactions).toHaveLength(3)
    expect(a.block_header.producer).toBe('producer-a')
  })

  it('steps over rounds (step 0: the parent round, an invalid child)', () => {
    const later = nextBlock(genesis, { network, step: 4 })
    expect(roundOf(later.block_header.timestamp, network)).toBe(4)
    const same = nextBlock(later, { network, step: 0 })
    expect(checkValidOnParent(same, later, network)).toMatchObject({ ok: false })
  })

  it('seals with the key of its round, and refuses to seal without the genesis hash', () => {
    const key = nodeKeyFromSeed(sha256Hex('testing-key'))
    const sealed = nextBlock(genesis, { network, keyFor: () => key })
    expect(sealed.block_header.producer).toBe(key.publicKey)
    expect(verifySeal(sealed, network.genesisHash)).toBe(true)
    const { genesisHash: _, ...clockOnly } = network
    expect(() => nextBlock(genesis, { network: clockOnly, keyFor: () => key })).toThrow(
      /genesisHash/,
    )
  })

  it('chainBuilder binds defaults that a call can override', () => {
    const builder = chainBuilder({ network, producer: 'bound', transactions: 2 })
    const [first, second] = builder.buildChain(genesis, 2)
    expect(first!.block_header.producer).toBe('bound')
    expect(first!.transactions).toHaveLength(2)
    expect(builder.nextBlock(second!, { producer: 'other' }).block_header.producer).toBe('other')
  })
})
