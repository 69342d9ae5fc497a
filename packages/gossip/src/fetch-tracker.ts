import type { AnnounceAnswer } from '@chronos/peer'

interface Waiter {
  address: string
  answer: (answer: AnnounceAnswer) => void
  /** Answers GET_BLOCK once the hold bound passes: this announcer's session is stalled meanwhile. */
  timer: NodeJS.Timeout
}

interface Fetch {
  source: string
  timer: NodeJS.Timeout
  /** Other announcers, each holding its NEW_BLOCK_HASH answer until we know whether we need them. */
  waiting: Waiter[]
}

export interface FetchTrackerOptions {
  /** How long the announcer asked first has to deliver before the next is asked. */
  timeoutMs: number
  /** Hashes tracked at once; past it an announcement is answered GET_BLOCK untracked. */
  maxFetches: number
  /**
   * Longest an answer to NEW_BLOCK_HASH is held (default 200 ms). Answers
   * on a connection go out in order, so a held answer stalls everything
   * after it; past this bound the announcer gets GET_BLOCK, whatever
   * others announced (issue 10 item 11).
   */
  maxHoldMs?: number
}

/**
 * Decides GET_BLOCK vs BLOCK_KNOWN when several peers announce the same
 * unknown hash: the first announcer gets GET_BLOCK; the others' answers
 * wait, at most `maxHoldMs`. When the block arrives they all get
 * BLOCK_KNOWN; when the fetch times out, the next announcer gets GET_BLOCK
 * and its own timeout; a waiter whose hold bound passes gets GET_BLOCK too.
 * So a block is usually fetched once, a silent announcer costs one
 * timeout, and no announcer's answer is held longer than the bound.
 */
export class FetchTracker {
  private readonly fetches = new Map<string, Fetch>()
  private readonly timeoutMs: number
  private readonly maxFetches: number
  readonly maxHoldMs: number

  constructor(options: FetchTrackerOptions) {
    this.timeoutMs = options.timeoutMs
    this.maxFetches = options.maxFetches
    // A hold longer than the source's own deadline would never be reached.
    this.maxHoldMs = Math.min(options.maxHoldMs ?? 200, options.timeoutMs)
  }

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
    return new Promise((answer) => {
      const waiter: Waiter = {
        address,
        answer,
        timer: setTimeout(() => {
          fetch.waiting = fetch.waiting.filter((w) => w !== waiter)
          answer('wanted')
        }, this.maxHoldMs),
      }
      waiter.timer.unref?.()
      fetch.waiting.push(waiter)
    })
  }

  /** The block arrived (from anyone): every waiting announcer learns we know it. */
  arrived(hash: string): void {
    const fetch = this.fetches.get(hash)
    if (!fetch) return
    clearTimeout(fetch.timer)
    this.fetches.delete(hash)
    for (const waiter of fetch.waiting) settle(waiter, 'known')
  }

  /** Forgets a peer that went away: if it was the source, the next announcer takes over now. */
  forget(address: string): void {
    for (const [hash, fetch] of this.fetches) {
      fetch.waiting = fetch.waiting.filter((w) => {
        if (w.address !== address) return true
        clearTimeout(w.timer)
        return false
      })
      if (fetch.source === address) this.fallBack(hash, fetch)
    }
  }

  stop(): void {
    for (const fetch of this.fetches.values()) {
      clearTimeout(fetch.timer)
      for (const waiter of fetch.waiting) settle(waiter, 'wanted')
    }
    this.fetches.clear()
  }

  private start(hash: string, source: string, waiting: Waiter[]): void {
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
    settle(next, 'wanted')
  }
}

function settle(waiter: Waiter, answer: AnnounceAnswer): void {
  clearTimeout(waiter.timer)
  waiter.answer(answer)
}
