/**
 * Penalties and bans per peer identity (a proven key, else an address),
 * bounded: identities cost an attacker nothing, so both tables evict their
 * oldest entry when full (as Lodestar's score store prunes and
 * ethereumjs's ban list is an LRU). Forgetting a strike costs one more
 * protocol error; an unbounded table is a memory leak any peer can drive.
 */
export interface PenaltyLimits {
  /** Penalties before an identity is refused. Default 3. */
  banThreshold: number
  /** How long a refusal lasts. Default 60 s. */
  banMs: number
  /** Identities with strikes remembered. Default 4,096. */
  maxStruck: number
  /** Identities refused at once. Default 1,024. */
  maxBanned: number
}

export const DEFAULT_PENALTY_LIMITS: PenaltyLimits = {
  banThreshold: 3,
  banMs: 60_000,
  maxStruck: 4_096,
  maxBanned: 1_024,
}

export class PenaltyBox {
  // Maps iterate in insertion order: the first entry is the oldest.
  private readonly strikes = new Map<string, number>()
  private readonly bans = new Map<string, number>()

  constructor(
    private readonly limits: PenaltyLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Identities with strikes, and identities refused: both bounded. */
  get size(): { struck: number; banned: number } {
    return { struck: this.strikes.size, banned: this.bans.size }
  }

  /** Counts a penalty; returns the strikes so far and whether this one made a ban. */
  penalise(id: string): { strikes: number; banned: boolean } {
    const strikes = (this.strikes.get(id) ?? 0) + 1
    this.strikes.delete(id)
    if (strikes < this.limits.banThreshold) {
      evictOldest(this.strikes, this.limits.maxStruck)
      this.strikes.set(id, strikes)
      return { strikes, banned: false }
    }
    this.bans.delete(id)
    evictOldest(this.bans, this.limits.maxBanned)
    this.bans.set(id, this.now() + this.limits.banMs)
    return { strikes, banned: true }
  }

  /** Milliseconds left on a refusal of `id`, 0 when not refused. */
  bannedFor(id: string): number {
    const until = this.bans.get(id)
    if (until === undefined) return 0
    const left = until - this.now()
    if (left > 0) return left
    this.bans.delete(id)
    return 0
  }
}

function evictOldest(map: Map<string, unknown>, capacity: number): void {
  while (map.size >= capacity) map.delete(map.keys().next().value as string)
}
