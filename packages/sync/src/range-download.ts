import type { Block } from '@chronos/codec'
import type { PullBlock } from './ancestor.js'
import { RangeUnavailableError, SyncError } from './errors.js'

export interface BlockSource {
  /** The peer's id (PeerManager's `Peer.id`). */
  id: string
  pull: PullBlock
  /** The height its Status claims now: a null answer at or below it is a broken promise. */
  claimedHeight?: () => number
}

export interface RangeDownloadHooks {
  /** `source` answered null for a height its Status claimed to have (it is dropped too). */
  unserved?: (source: string, height: number) => void
}

export interface Downloaded {
  block: Block
  source: string
}

/**
 * Fetches heights [from, to] from several peers with at most `window`
 * PULL_BLOCKs in flight, spread evenly, and hands the blocks out in height
 * order. A peer that fails, stalls (its request times out), answers null or
 * is rejected by the caller gives its heights back to the others.
 */
export class RangeDownload {
  private readonly sources = new Map<string, BlockSource>()
  private readonly inFlight = new Map<string, number>()
  private readonly results = new Map<number, Downloaded>()
  /** Sources dropped from this download; they do not come back. */
  private readonly dropped = new Set<string>()
  /** Heights given back by a dropped peer; served before new ones. */
  private readonly retry: number[] = []
  private nextNew: number
  private expected: number
  private wake: (() => void) | undefined
  private stopped = false

  constructor(
    from: number,
    private readonly to: number,
    sources: readonly BlockSource[],
    private readonly window: number,
    private readonly hooks: RangeDownloadHooks = {},
  ) {
    this.nextNew = from
    this.expected = from
    for (const source of sources) {
      this.sources.set(source.id, source)
      this.inFlight.set(source.id, 0)
    }
    this.pump()
  }

  get activeSources(): number {
    return this.sources.size
  }

  /** A peer that became able to serve the range joins it. */
  add(source: BlockSource): void {
    if (this.stopped || this.sources.has(source.id) || this.dropped.has(source.id)) return
    this.sources.set(source.id, source)
    this.inFlight.set(source.id, this.inFlight.get(source.id) ?? 0)
    this.pump()
  }

  /** True when `next()` would return without waiting. */
  get ready(): boolean {
    return this.results.has(this.expected)
  }

  /** The next block in height order if it is here already (no await per block in a full window). */
  take(): Downloaded | undefined {
    const result = this.results.get(this.expected)
    if (!result) return undefined
    this.results.delete(this.expected++)
    this.pump()
    return result
  }

  /** The next block in height order. */
  async next(): Promise<Downloaded> {
    for (;;) {
      const result = this.take()
      if (result) return result
      if (this.stopped) throw new SyncError('SYNC_ABORTED', 'the download was stopped')
      if (this.sources.size === 0) throw new RangeUnavailableError(this.expected)
      await new Promise<void>((resolve) => (this.wake = resolve))
    }
  }

  /** The block handed out at `height` was bad: drop its source and fetch the height again. */
  reject(height: number, source: string): void {
    this.expected = Math.min(this.expected, height)
    this.retry.push(height)
    this.drop(source)
  }

  /** Stops using a source; its pending and unconsumed heights go to the others. */
  drop(id: string): void {
    if (!this.sources.delete(id)) return
    this.dropped.add(id)
    for (const [height, result] of this.results) {
      if (result.source !== id) continue
      this.results.delete(height)
      this.retry.push(height)
    }
    this.pump()
    this.notify()
  }

  stop(): void {
    this.stopped = true
    this.notify()
  }

  private notify(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  private takeHeight(): number | undefined {
    if (this.retry.length) {
      this.retry.sort((a, b) => a - b)
      return this.retry.shift()
    }
    // Do not run further ahead than the window past what the caller consumed.
    if (this.nextNew > this.to || this.nextNew >= this.expected + this.window * 2) return undefined
    return this.nextNew++
  }

  private pump(): void {
    if (this.stopped) return
    let total = 0
    for (const id of this.sources.keys()) total += this.inFlight.get(id) ?? 0
    const perSource = Math.max(1, Math.ceil(this.window / Math.max(1, this.sources.size)))
    while (total < this.window) {
      let chosen: BlockSource | undefined
      let least = perSource
      for (const source of this.sources.values()) {
        const load = this.inFlight.get(source.id) ?? 0
        if (load < least) {
          least = load
          chosen = source
        }
      }
      if (!chosen) return
      const height = this.takeHeight()
      if (height === undefined) return
      total++
      this.request(chosen, height)
    }
  }

  private request(source: BlockSource, height: number): void {
    const claimed = source.claimedHeight?.() ?? -1
    this.inFlight.set(source.id, (this.inFlight.get(source.id) ?? 0) + 1)
    const settled = () => this.inFlight.set(source.id, (this.inFlight.get(source.id) ?? 1) - 1)
    source.pull(height).then(
      (block) => {
        settled()
        if (this.stopped) return
        if (!this.sources.has(source.id)) {
          this.retry.push(height)
        } else if (block === null) {
          this.retry.push(height)
          this.drop(source.id)
          if (height <= claimed) this.hooks.unserved?.(source.id, height)
          return
        } else {
          this.results.set(height, { block, source: source.id })
        }
        this.pump()
        this.notify()
      },
      () => {
        settled()
        if (this.stopped) return
        this.retry.push(height)
        this.drop(source.id)
      },
    )
  }
}
