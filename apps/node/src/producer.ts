import { type Block, createBlock, type Transaction } from '@chronos/codec'
import type { ProductionContext } from '@chronos/gossip'
import type { Mempool } from './mempool.js'

export interface ProducerOptions {
  /** Named as the block's `producer`: our advertised address (known once we listen). */
  name: () => string
  mempool: Mempool
  maxTransactions: number
  /** Synthetic transactions per second (demo and load). */
  txRate: number
  roundMs: number
}

/** Packs a candidate at each round start: mempool transactions first, then synthetic ones. */
export function createProducer(options: ProducerOptions) {
  let nonce = 0
  let owed = 0
  return (context: ProductionContext): Block => {
    const transactions = options.mempool.peek(options.maxTransactions)
    owed += (options.txRate * options.roundMs) / 1000
    const synthetic = Math.min(Math.floor(owed), options.maxTransactions - transactions.length)
    owed -= Math.max(0, synthetic)
    for (let i = 0; i < synthetic; i++)
      transactions.push(syntheticTransaction(options.name(), nonce++))
    return createBlock({
      height: context.parent.block_header.height + 1,
      prevHash: context.parent.block_header.hash,
      timestamp: context.timestamp,
      producer: options.name(),
      transactions,
    })
  }
}

function syntheticTransaction(from: string, nonce: number): Transaction {
  return { type: 'transfer', from, to: `account-${nonce % 97}`, amount: 1 + (nonce % 50), nonce }
}
