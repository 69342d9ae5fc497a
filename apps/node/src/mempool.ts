import { type Block, canonicalize, type Transaction, transactionId } from '@chronos/codec'

export type MempoolRefusal = 'DUPLICATE' | 'FULL' | 'TOO_LARGE'

export interface MempoolLimits {
  /** Transactions held. */
  maxTransactions: number
  /** Bytes held, counted as each transaction's JCS encoding (issue 10 item 4). */
  maxBytes: number
  /** Largest single transaction: one that could never fit in a block is refused up front. */
  maxTransactionBytes: number
}

interface Waiting {
  transaction: Transaction
  /** UTF-8 bytes of its JCS encoding: what it adds to a block's envelope. */
  bytes: number
}

/** UTF-8 bytes a transaction takes inside a block's canonical encoding. */
export const transactionBytes = (transaction: Transaction): number =>
  Buffer.byteLength(canonicalize(transaction), 'utf8')

/**
 * Transactions waiting for a block, bounded by count and by bytes, oldest
 * first, deduplicated by transaction id. Confirmed blocks take theirs out;
 * a reorg puts the removed blocks' transactions back (as far as they fit).
 */
export class Mempool {
  private readonly waiting = new Map<string, Waiting>()
  private heldBytes = 0
  readonly limits: MempoolLimits

  constructor(limits: MempoolLimits | number) {
    this.limits =
      typeof limits === 'number'
        ? {
            maxTransactions: limits,
            maxBytes: Number.POSITIVE_INFINITY,
            maxTransactionBytes: Number.POSITIVE_INFINITY,
          }
        : limits
  }

  /** Transactions held. */
  get size(): number {
    return this.waiting.size
  }

  /** Bytes held (JCS of each transaction). */
  get bytes(): number {
    return this.heldBytes
  }

  /** Adds a transaction; returns its id, or why it was refused. */
  add(transaction: Transaction): { id: string } | { refused: MempoolRefusal } {
    const bytes = transactionBytes(transaction)
    if (bytes > this.limits.maxTransactionBytes) return { refused: 'TOO_LARGE' }
    const id = transactionId(transaction)
    if (this.waiting.has(id)) return { refused: 'DUPLICATE' }
    if (!this.fits(bytes)) return { refused: 'FULL' }
    this.put(id, { transaction, bytes })
    return { id }
  }

  /** Up to `count` transactions, oldest first (they stay until confirmed). */
  peek(count: number): Transaction[] {
    return this.take(count, Number.POSITIVE_INFINITY).map((w) => w.transaction)
  }

  /**
   * Oldest first, up to `count` transactions whose bytes (each plus one
   * for its separating comma) sum to at most `budget`; a transaction that
   * does not fit is skipped, so a smaller later one can still go.
   */
  take(count: number, budget: number): Waiting[] {
    const out: Waiting[] = []
    let used = 0
    for (const entry of this.waiting.values()) {
      if (out.length >= count) break
      if (used + entry.bytes + 1 > budget) continue
      used += entry.bytes + 1
      out.push(entry)
    }
    return out
  }

  /** Applies a head change: confirmed transactions leave, those of removed blocks return. */
  headChanged(added: readonly Block[], removed: readonly Block[]): void {
    const confirmed = new Set<string>()
    for (const block of added)
      for (const transaction of block.transactions) {
        const id = transactionId(transaction)
        confirmed.add(id)
        this.delete(id)
      }
    // A transaction in both chains stays confirmed; the rest of the removed ones return.
    for (const block of removed)
      for (const transaction of block.transactions) {
        const id = transactionId(transaction)
        if (confirmed.has(id) || this.waiting.has(id)) continue
        const bytes = transactionBytes(transaction)
        if (bytes <= this.limits.maxTransactionBytes && this.fits(bytes))
          this.put(id, { transaction, bytes })
      }
  }

  private fits(bytes: number): boolean {
    return (
      this.waiting.size < this.limits.maxTransactions &&
      this.heldBytes + bytes <= this.limits.maxBytes
    )
  }

  private put(id: string, entry: Waiting): void {
    this.waiting.set(id, entry)
    this.heldBytes += entry.bytes
  }

  private delete(id: string): void {
    const entry = this.waiting.get(id)
    if (!entry) return
    this.waiting.delete(id)
    this.heldBytes -= entry.bytes
  }
}
