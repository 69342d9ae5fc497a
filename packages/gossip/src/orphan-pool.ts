import type { Block } from '@chronos/codec'

export interface HeldOrphan<From> {
  block: Block
  from: From
  round: number
}

/**
 * Candidates of the current round whose parent we lack (PROTOCOL.md
 * section 7, catching up inside a round): held while sync fetches the
 * parent, handed back once our head is that parent. Bounded by count; the
 * oldest goes first, and a round's leftovers go when the round ends.
 */
export class OrphanPool<From> {
  private readonly held = new Map<string, HeldOrphan<From>>()

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.held.size
  }

  has(hash: string): boolean {
    return this.held.has(hash)
  }

  hold(block: Block, from: From, round: number): void {
    if (this.capacity <= 0) return
    const hash = block.block_header.hash
    if (this.held.has(hash)) return
    if (this.held.size >= this.capacity) this.held.delete(this.held.keys().next().value!)
    this.held.set(hash, { block, from, round })
  }

  /** Removes and returns the held blocks of `round` whose parent is `parentHash`. */
  takeChildrenOf(parentHash: string, round: number): HeldOrphan<From>[] {
    const out: HeldOrphan<From>[] = []
    for (const [hash, entry] of this.held) {
      if (entry.round !== round || entry.block.block_header.prev_hash !== parentHash) continue
      this.held.delete(hash)
      out.push(entry)
    }
    return out
  }

  /** Forgets everything of rounds before `round`. */
  pruneBefore(round: number): void {
    for (const [hash, entry] of this.held) if (entry.round < round) this.held.delete(hash)
  }

  clear(): void {
    this.held.clear()
  }
}
