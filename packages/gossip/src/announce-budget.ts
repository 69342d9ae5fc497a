/**
 * What announcers may make us spend in one round (PROTOCOL.md section 9,
 * docs/LIMITS.md): each unknown hash we take up costs a store lookup, a
 * GET_BLOCK and a fetch record, so they are counted per announcer and in
 * total, and reset when the round changes. Past either bound an
 * announcement is declined (answered BLOCK_KNOWN at the round's end,
 * nothing tracked).
 */
export class AnnounceBudget {
  private round = Number.NEGATIVE_INFINITY
  private total = 0
  private readonly perPeer = new Map<string, number>()

  constructor(
    /** Unknown hashes taken up per announcer per round. */
    readonly maxPerPeer: number,
    /** Unknown hashes taken up across all announcers per round. */
    readonly maxTotal: number,
  ) {}

  /** Charges one announcement by `peer` in `round`; false when it is over a bound. */
  take(peer: string, round: number): boolean {
    if (round !== this.round) {
      this.round = round
      this.total = 0
      this.perPeer.clear()
    }
    if (this.total >= this.maxTotal) return false
    const used = this.perPeer.get(peer) ?? 0
    if (used >= this.maxPerPeer) return false
    // The map has at most maxTotal entries: each needs one charge this round.
    this.perPeer.set(peer, used + 1)
    this.total++
    return true
  }
}
