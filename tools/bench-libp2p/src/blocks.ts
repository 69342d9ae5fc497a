// Blocks of a given encoded size, built on a parent: the same bytes go to
// both stacks (Chronos as the NEW_BLOCK message, gossipsub as its JSON).
import { type Block, createBlock, encodeMessage, type Transaction } from '@chronos/codec'

/** What a producer packs at most by default (the node's `maxBlockTransactions`). */
export const MAX_TRANSACTIONS = 1_000

const transaction = (i: number, salt: number, pad: string): Transaction => ({
  from: `acct-${i}`,
  to: `acct-${(i * 7919 + salt) % 100_000}`,
  amount: (i * 37 + salt) % 10_000,
  nonce: i,
  ...(pad ? { data: pad } : {}),
})

/** Bytes one transaction without padding adds to the envelope. */
const perTransaction = Buffer.byteLength(JSON.stringify(transaction(12_345, 678, ''))) + 1

export function blockOfSize(
  bytes: number,
  parent: Block,
  timestamp: number,
  producer: string,
  salt: number,
): Block {
  // Small blocks: many small transactions. Large ones: at most MAX_TRANSACTIONS, each carrying
  // a payload, as a producer with default limits would pack them.
  const room = bytes - 400
  const count = Math.max(1, Math.min(MAX_TRANSACTIONS, Math.round(room / perTransaction)))
  const padBytes = Math.max(0, Math.floor(room / count) - perTransaction - 10)
  const pad = padBytes > 0 ? 'x'.repeat(padBytes) : ''
  return createBlock({
    height: parent.block_header.height + 1,
    prevHash: parent.block_header.hash,
    timestamp,
    producer,
    transactions: Array.from({ length: count }, (_, i) => transaction(i, salt, pad)),
  })
}

/** The NEW_BLOCK envelope's bytes, as Chronos puts them in a frame body. */
export const envelopeBytes = (block: Block) =>
  Buffer.from(encodeMessage({ code: 'NEW_BLOCK', data: block }))
