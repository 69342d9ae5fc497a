/** Priority, chain order and the broadcast fan-out (PROTOCOL.md sections 7-9 and 12). */
import type { NetworkParams } from './genesis.js'
import { type RoundClock, roundOf } from './rounds.js'
import type { BlockHeader } from './schema.js'

/** What priority depends on: the round clock and, in a permissioned network, the producers. */
export type PriorityRules = RoundClock & Pick<NetworkParams, 'producers'>

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

/** (1.1) The in-turn producer of round r: producers[r mod N]; undefined in an open network. */
export function inTurnProducer(round: number, network: PriorityRules): string | undefined {
  const producers = network.producers
  if (!producers || producers.length === 0 || round < 0) return undefined
  return producers[round % producers.length]
}

/** (1.1) True when the block's producer is in turn for the block's own round (section 12). */
export function isInTurn(header: BlockHeader, network: PriorityRules): boolean {
  const producer = inTurnProducer(roundOf(header.timestamp, network), network)
  return producer !== undefined && producer === header.producer
}

/**
 * Priority of two blocks with the same parent: in a permissioned network an
 * in-turn block beats one that is not; otherwise the smaller hash wins.
 * Negative when `a` ranks higher; 0 only for the same hash.
 */
export function compareBlocks(a: BlockHeader, b: BlockHeader, network: PriorityRules): number {
  if (network.producers) {
    const aInTurn = isInTurn(a, network)
    if (aInTurn !== isInTurn(b, network)) return aInTurn ? -1 : 1
  }
  return comparePriority(a.hash, b.hash)
}

/**
 * Fork choice (section 8) over two chains from one shared ancestor, given
 * as the headers after it in height order: the longer wins; at equal
 * length, the higher-priority block at the first height where they differ.
 * Negative when `a` is better, 0 for the same chain.
 */
export function compareForks(
  a: readonly BlockHeader[],
  b: readonly BlockHeader[],
  network: PriorityRules,
): number {
  if (a.length !== b.length) return b.length - a.length
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.hash !== b[i]!.hash) return compareBlocks(a[i]!, b[i]!, network)
  }
  return 0
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
