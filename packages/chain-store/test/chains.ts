// Test chains: blocks one round apart on a 1 s network.
import { type Block, createBlock, createGenesis } from '@chronos/codec'

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

export interface ChainOptions {
  producer?: string
  transactions?: number
  /** Rounds between blocks (default 1). */
  step?: number
}

export function nextBlock(parent: Block, options: ChainOptions = {}): Block {
  const step = options.step ?? 1
  const height = parent.block_header.height + 1
  return createBlock({
    height,
    prevHash: parent.block_header.hash,
    timestamp:
      parent.block_header.timestamp -
      (parent.block_header.timestamp % ROUND_MS) +
      step * ROUND_MS +
      7,
    producer: options.producer ?? 'node-a',
    transactions: Array.from({ length: options.transactions ?? 1 }, (_, i) => ({
      from: `acct-${height}`,
      to: `acct-${i}`,
      amount: i + 1,
      nonce: height,
    })),
  })
}

export function buildChain(parent: Block, length: number, options: ChainOptions = {}): Block[] {
  const out: Block[] = []
  let tip = parent
  for (let i = 0; i < length; i++) {
    tip = nextBlock(tip, options)
    out.push(tip)
  }
  return out
}
