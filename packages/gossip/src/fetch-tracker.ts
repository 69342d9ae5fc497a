import type { AnnounceAnswer } from '@chronos/peer'

interface Fetch {
  source: string
  timer: NodeJS.Timeout
  /** Other announcers, each holding its NEW_BLOCK_HASH answer until we know whether we need them. */
  waiting: { address: string; answer: (answer: AnnounceAnswer) => void }[]
}

/**
 * Decides GET_BLOCK vs BLOCK_KNOWN when several peers announce the same
 * unknown hash: the first announcer gets GET_BLOCK; the others' answers
 * wait. When the block arrives they all get BLOCK_KNOWN; when the fetch
 * times out, the next announcer gets GET_BLOCK and its own timeout. So a
 * block is fetched once, not once per announcer, and a silent announcer
 * costs one timeout, not the block.
 */
export class FetchTracker {
  private readonly fetches = new Map<string, Fetch>()

  constructor(
    private readonly timeoutMs: number,
    private readonly maxFetches: number,
  ) {}

  get size(): number {
    return this.fetches.size
  }

  /** The answer for `address`, which announced `hash` we do not have. */
  announce(hash: string, address: string): AnnounceAnswer | Promise<AnnounceAnswer> {
    const fetch = this.fetches.get(hash)
    if (!fetch) {
      // Past the cap, ask without tracking: costs a possible duplicate download, never memory.
      if (this.fetches.size < this.maxFetches) this.start(hash, address, [])
      return 'wanted'
    }
    if (fetch.source === address || fetch.waiting.some((w) => w.address === address))
      return 'wanted'
    return new Promise((answer) => fetch.waiting.push({ address, answer }))
  }

  /** The block arrived (from anyone): every waiting announcer learns we know it. */
  arrived(hash: string): void {
    const fetch = this.fetches.get(hash)
    if (!fetch) return
    clearTimeout(fetch.timer)
    this.fetches.delete(hash)
    for (const waiter of fetch.waiting) waiter.answer('known')
  }

  /** Forgets a peer that went away: if it was the source, the next announcer takes over now. */
  forget(address: string): void {
    for (const [hash, fetch] of this.fetches) {
      fetch.waiting = fetch.waiting.filter((w) => w.address !== address)
      if (fetch.source === address) this.fallBack(hash, fetch)
    }
  }

  stop(): void {
    for (const fetch of this.fetches.values()) {
      clearTimeout(fetch.timer)
      for (const waiter of fetch.waiting) waiter.answer('wanted')
    }
    this.fetches.clear()
  }

  private start(hash: string, source: string, waiting: Fetch['waiting']): void {
    const fetch: Fetch = { source, waiting, timer: undefined as never }
    fetch.timer = setTimeout(() => this.fallBack(hash, fetch), this.timeoutMs)
    fetch.timer.unref?.()
    this.fetches.set(hash, fetch)
  }

  private fallBack(hash: string, fetch: Fetch): void {
    clearTimeout(fetch.timer)
    this.fetches.delete(hash)
    const [next, ...rest] = fetch.waiting
    if (!next) return
    this.start(hash, next.address, rest)
    next.answer('wanted')
  }
}
