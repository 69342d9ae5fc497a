import { type Block, blockEnvelopeBytes, createBlock, type Transaction } from '@chronos/codec'
import type { ProductionContext } from '@chronos/gossip'
import { type Mempool, transactionBytes } from './mempool.js'

export interface ProducerOptions {
  /** Named as the block's `producer`: our advertised address (known once we listen). */
  name: () => string
  mempool: Mempool
  maxTransactions: number
  /**
   * The largest frame body. A produced block's NEW_BLOCK envelope (JCS,
   * PROTOCOL.md section 6) never exceeds it: a block over it is not
   * well-formed, and once confirmed no peer could ever sync past it.
   */
  maxBodyBytes: number
  /** Synthetic transactions per second (demo and load). */
  txRate: number
  roundMs: number
}

/** Packs a candidate at each round start: mempool transactions first, then synthetic ones. */
export function createProducer(options: ProducerOptions) {
  let nonce = 0
  let owed = 0
  return (context: ProductionContext): Block => {
    const build = (transactions: Transaction[]) =>
      createBlock({
        height: context.parent.block_header.height + 1,
        prevHash: context.parent.block_header.hash,
        timestamp: context.timestamp,
        producer: options.name(),
        transactions,
      })
    // The envelope of the empty block, plus each transaction and its comma, is the
    // envelope of the full one (header fields are fixed-length hashes and numbers).
    const budget = options.maxBodyBytes - blockEnvelopeBytes(build([]))
    const picked = options.mempool.take(options.maxTransactions, budget)
    const transactions = picked.map((entry) => entry.transaction)
    let used = picked.reduce((sum, entry) => sum + entry.bytes + 1, 0)
    owed += (options.txRate * options.roundMs) / 1000
    const room = Math.min(Math.floor(owed), options.maxTransactions - transactions.length)
    owed -= Math.max(0, room)
    for (let i = 0; i < room; i++) {
      const synthetic = syntheticTransaction(options.name(), nonce)
      const bytes = transactionBytes(synthetic) + 1
      if (used + bytes > budget) break
      nonce++
      used += bytes
      transactions.push(synthetic)
    }
    let block = build(transactions)
    // The arithmetic above is exact; this guard keeps the rule true even if it were not.
    while (transactions.length > 0 && blockEnvelopeBytes(block) > options.maxBodyBytes) {
      transactions.pop()
      block = build(transactions)
    }
    return block
  }
}

function syntheticTransaction(from: string, nonce: number): Transaction {
  return { type: 'transfer', from, to: `account-${nonce % 97}`, amount: 1 + (nonce % 50), nonce }
}
