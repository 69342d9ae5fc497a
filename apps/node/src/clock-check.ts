/**
 * Telling the operator that our clock seems slow (as geth's "System clock
 * seems off"). PROTOCOL.md section 4 makes a Status height above our current
 * round + 1 a protocol error, with no allowance for clock error: a node whose
 * clock is more than about a round slow refuses every honest peer with
 * IMPOSSIBLE_HEIGHT, because by its clock their chains are in the future. The
 * rule stays as written; this notices when several distinct peers are refused
 * so within a window, which one liar cannot cause, and says by how much.
 */

/** The warning's message (stable, for log searches); its fields carry the figures. */
export const SLOW_CLOCK_WARNING = 'system clock seems slow'

export interface ClockCheckOptions {
  /** Distinct peers refused IMPOSSIBLE_HEIGHT within `windowMs` before the clock is suspected. Default 3. */
  minPeers?: number
  /** How far back refusals count. Default 60 s. */
  windowMs?: number
  /** While the suspicion lasts, the warning is repeated at most this often. Default 10 minutes. */
  warnIntervalMs?: number
  /** Peers remembered (keyed by their claimed Status address, which a peer chooses): the oldest go first. Default 256. */
  maxPeers?: number
}

export const CLOCK_CHECK_DEFAULTS: Required<ClockCheckOptions> = {
  minPeers: 3,
  windowMs: 60_000,
  warnIntervalMs: 10 * 60_000,
  maxPeers: 256,
}

/** What the refusals in the window say about our clock. */
export interface SlowClock {
  /** Distinct peers refused IMPOSSIBLE_HEIGHT within the window. */
  peers: number
  /**
   * Rounds by which the least-ahead of those peers' heads exceeded the
   * highest height our clock allows (height - (current round + 1)): our clock
   * is at least about this many rounds slow.
   */
  roundsAhead: number
  /** `-roundsAhead * roundMs`: the implied offset of our clock, a lower bound of how slow it is (negative: slow). */
  impliedOffsetMs: number
  /** When the suspicion began (our clock, Unix ms). */
  since: number
}

export type ClockVerdict =
  /** Nothing to say. */
  | { readonly kind: 'quiet' }
  /** Log the warning now (the suspicion is new, or the last warning is `warnIntervalMs` old). */
  | { readonly kind: 'warn'; readonly slow: SlowClock }

interface Refusal {
  at: number
  roundsAhead: number
}

/**
 * The refusals of the last window, by peer, bounded; and when we last
 * warned. Fed by the node on every IMPOSSIBLE_HEIGHT close; asked by
 * health and metrics for the current suspicion.
 */
export class SlowClockCheck {
  private readonly options: Required<ClockCheckOptions>
  private readonly refusals = new Map<string, Refusal>()
  private suspectedSince: number | undefined
  private lastWarning: number | undefined

  constructor(
    private readonly roundMs: number,
    private readonly now: () => number,
    options: ClockCheckOptions = {},
  ) {
    this.options = { ...CLOCK_CHECK_DEFAULTS, ...options }
  }

  /** Peers remembered (bounded by `maxPeers`). */
  get size(): number {
    return this.refusals.size
  }

  /** A peer claiming `height` was refused because our clock allows at most `limit`. */
  refused(peer: string, height: number, limit: number): ClockVerdict {
    const at = this.now()
    this.refusals.delete(peer)
    this.refusals.set(peer, { at, roundsAhead: Math.max(1, height - limit) })
    while (this.refusals.size > this.options.maxPeers)
      this.refusals.delete(this.refusals.keys().next().value as string)
    const slow = this.current()
    if (!slow) return { kind: 'quiet' }
    if (this.lastWarning !== undefined && at - this.lastWarning < this.options.warnIntervalMs)
      return { kind: 'quiet' }
    this.lastWarning = at
    return { kind: 'warn', slow }
  }

  /** The suspicion now, undefined when too few peers were refused within the window. */
  current(): SlowClock | undefined {
    const now = this.now()
    // Oldest first: drop what fell out of the window.
    for (const [peer, refusal] of this.refusals) {
      if (now - refusal.at <= this.options.windowMs) break
      this.refusals.delete(peer)
    }
    if (this.refusals.size < this.options.minPeers) {
      // Over: the next suspicion is news again (at most one warning per window, however it flaps).
      this.suspectedSince = undefined
      this.lastWarning = undefined
      return undefined
    }
    this.suspectedSince ??= now
    let roundsAhead = Number.POSITIVE_INFINITY
    for (const refusal of this.refusals.values())
      roundsAhead = Math.min(roundsAhead, refusal.roundsAhead)
    return {
      peers: this.refusals.size,
      roundsAhead,
      impliedOffsetMs: -roundsAhead * this.roundMs,
      since: this.suspectedSince,
    }
  }
}
