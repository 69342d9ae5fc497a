/** Round arithmetic (PROTOCOL.md section 7): round r covers [G + r*round_ms, G + (r+1)*round_ms). */

export interface RoundClock {
  /** G: the genesis block's timestamp, Unix ms. */
  readonly genesisTime: number
  /** Round length in ms, read from the genesis parameters. */
  readonly roundMs: number
}

/** floor((timestamp - G) / round_ms); negative before genesis. */
export function roundOf(timestamp: number, clock: RoundClock): number {
  return Math.floor((timestamp - clock.genesisTime) / clock.roundMs)
}

/** First millisecond of round r. */
export function roundStart(round: number, clock: RoundClock): number {
  return clock.genesisTime + round * clock.roundMs
}

/** First millisecond after round r. */
export function roundEnd(round: number, clock: RoundClock): number {
  return roundStart(round + 1, clock)
}

/**
 * (1.1) Section 6: a block is confirmable once its round has ended by the
 * receiver's clock. Sync and fork choice never count a block of a round
 * still running.
 */
export function isRoundEnded(timestamp: number, nowMs: number, clock: RoundClock): boolean {
  return roundEnd(roundOf(timestamp, clock), clock) <= nowMs
}

/**
 * (1.1) Section 4: a chain holds at most one block per round, so no honest
 * Status received at `nowMs` claims a height above this.
 */
export function maxPossibleHeight(nowMs: number, clock: RoundClock): number {
  return roundOf(nowMs, clock) + 1
}
