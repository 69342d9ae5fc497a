// Test chains: blocks one round apart on a 1 s network.
import { createGenesis, readNetworkParams } from '@chronos/codec'
import { chainBuilder } from '@chronos/codec/testing'

export const ROUND_MS = 1000
export const genesis = createGenesis({
  network: 'store-test',
  roundMs: ROUND_MS,
  timestamp: 1_700_000_000_000,
})
export const otherGenesis = createGenesis({
  network: 'other',
  roundMs: ROUND_MS,
  timestamp: 1_700_000_000_000,
})

/** Blocks 7 ms into their round, by `node-a` unless a test names another producer. */
export const { nextBlock, buildChain } = chainBuilder({
  network: readNetworkParams(genesis),
  producer: 'node-a',
  offsetMs: 7,
})
