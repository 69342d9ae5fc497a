import { type Block, createBlock, createGenesis } from '@chronos/codec'

export const ROUND_MS = 100

/** The benchmark chain: `blocks` blocks of 20 transactions, all in the past. Deterministic for a given start. */
export function benchChain(blocks: number, genesisTime: number) {
  const genesis = createGenesis({
    network: 'sync-bench',
    roundMs: ROUND_MS,
    timestamp: genesisTime,
  })
  const chain: Block[] = []
  let tip = genesis
  for (let h = 1; h <= blocks; h++) {
    tip = createBlock({
      height: h,
      prevHash: tip.block_header.hash,
      timestamp: genesisTime + h * ROUND_MS + 1,
      producer: 'bench',
      transactions: Array.from({ length: 20 }, (_, n) => ({
        from: `a${h}`,
        to: `b${n}`,
        amount: n + 1,
        nonce: h,
      })),
    })
    chain.push(tip)
  }
  return { genesis, chain }
}
