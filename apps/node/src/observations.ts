import type { Block } from '@chronos/codec'

/** How a node first learned of a block. */
export type ObservationKind = 'produced' | 'block' | 'hash' | 'confirmed' | 'reorg'

export interface Observation {
  seq: number
  /** Unix ms. */
  at: number
  kind: ObservationKind
  hash: string
  height?: number
  producer?: string
  transactions?: number
  /** The peer it came from, when it came from one. */
  from?: string
  /** A reorg: the height below the replaced blocks, and how many were replaced. */
  forkHeight?: number
  removed?: number
}

/**
 * A bounded log of what this node saw of blocks, in order, for observers
 * (the bridge reads it from `GET /observations?after=SEQ`). Oldest entries
 * fall off; a reader that fell behind sees a gap in `seq`.
 */
export class ObservationLog {
  private readonly entries: Observation[] = []
  private seq = 0

  constructor(private readonly capacity = 2048) {}

  add(
    kind: ObservationKind,
    hash: string,
    block?: Block,
    details: Pick<Observation, 'from' | 'forkHeight' | 'removed'> = {},
  ): void {
    this.entries.push({
      ...details,
      seq: ++this.seq,
      at: Date.now(),
      kind,
      hash,
      height: block?.block_header.height,
      producer: block?.block_header.producer,
      transactions: block?.transactions.length,
    })
    // Trimmed in batches: one splice per add made every add cost the whole log (issue 10
    // item 10: a flood of announcements turned it into seconds of CPU).
    if (this.entries.length >= this.capacity + Math.ceil(this.capacity / 4))
      this.entries.splice(0, this.entries.length - this.capacity)
  }

  /** Entries with seq > `after`, oldest first, at most `limit`. */
  since(after: number, limit = 500): Observation[] {
    const first = this.entries.findIndex((e) => e.seq > after)
    return first < 0 ? [] : this.entries.slice(first, first + limit)
  }
}
