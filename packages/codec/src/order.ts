/** Priority, chain order and the broadcast fan-out (PROTOCOL.md sections 7-9). */

/**
 * Of two blocks with the same parent, the smaller hash (compared as
 * strings) has the higher priority. Negative when `a` ranks higher, so
 * `hashes.sort(comparePriority)` puts the winner first.
 */
export function comparePriority(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The higher-priority of two hashes. */
export function higherPriority(a: string, b: string): string {
  return comparePriority(a, b) <= 0 ? a : b
}

/**
 * Chain order over chains given as block hashes by height from a shared
 * base: the longer chain is better; at equal length, the one whose block at
 * the lowest differing height has the smaller hash. Negative when `a` is
 * better, 0 for the same chain.
 */
export function compareChains(a: readonly string[], b: readonly string[]): number {
  if (a.length !== b.length) return b.length - a.length
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return comparePriority(a[i]!, b[i]!)
  }
  return 0
}

export function isBetterChain(a: readonly string[], b: readonly string[]): boolean {
  return compareChains(a, b) < 0
}

/** floor(sqrt(n)) exactly, for any safe integer. */
function integerSqrt(n: number): number {
  let r = Math.floor(Math.sqrt(n))
  while (r * r > n) r--
  while ((r + 1) * (r + 1) <= n) r++
  return r
}

export interface Fanout {
  /** Peers that get NEW_BLOCK. */
  fullBlock: number
  /** Peers that get NEW_BLOCK_HASH. */
  hashOnly: number
}

/** Of m peers lacking a block: max(1, floor(sqrt(m))) get it whole (none if m = 0), the rest its hash. */
export function fanout(peersWithoutBlock: number): Fanout {
  if (peersWithoutBlock <= 0) return { fullBlock: 0, hashOnly: 0 }
  const fullBlock = Math.max(1, integerSqrt(peersWithoutBlock))
  return { fullBlock, hashOnly: peersWithoutBlock - fullBlock }
}
