import type { ChainStore } from '@chronos/chain-store'
import type { Block } from '@chronos/codec'

/** Reads the peer's confirmed block at a height (PULL_BLOCK), null when it has none. */
export type PullBlock = (height: number) => Promise<Block | null>

export interface Ancestor {
  /** Highest height where both chains hold the same block. */
  height: number
  /** PULL_BLOCK requests it took. */
  requests: number
  /** Sequential waits for answers it took (requests sent together count once). */
  roundTrips: number
}

/** Heights below the tip asked together when the tip is not shared. Default 8. */
export const DEFAULT_ANCESTOR_WINDOW = 8

/**
 * Finds the highest block our chain shares with a peer's. Heights at or
 * below a shared block are shared too (each block commits to its parent),
 * so the shared heights are a prefix and can be searched. Genesis is shared
 * by construction: the handshake already refused other networks.
 *
 * Three steps, cheapest first:
 * - the tip alone: a peer that simply extends our chain costs one request;
 * - the `window` heights below it, pipelined in one round trip: after a
 *   partition heals the forks are as deep as the partition lasted in rounds,
 *   and each sequential request is a wait on two busy event loops (the heal
 *   test under starvation spent its rounds in a bisection of ~7 of them);
 * - bisection below the window: O(log n) round trips for a deep fork.
 */
export async function findCommonAncestor(
  store: ChainStore,
  pull: PullBlock,
  peerHeight: number,
  window = DEFAULT_ANCESTOR_WINDOW,
): Promise<Ancestor> {
  let requests = 0
  let roundTrips = 0
  const shared = async (height: number) => {
    requests++
    const [theirs, ours] = await Promise.all([pull(height), store.getByHeight(height)])
    return (
      theirs !== null && ours !== undefined && theirs.block_header.hash === ours.block_header.hash
    )
  }
  const together = async (heights: number[]) => {
    roundTrips++
    return Promise.all(heights.map(shared))
  }
  const top = Math.min(store.height(), peerHeight)
  const [tipShared] = await together([top])
  if (tipShared) return { height: top, requests, roundTrips }
  // Below the tip, highest first: the first shared one is the ancestor.
  const near = Array.from({ length: Math.min(window, top) }, (_, i) => top - 1 - i)
  const answers = near.length > 0 ? await together(near) : []
  const found = answers.indexOf(true)
  if (found >= 0) return { height: near[found]!, requests, roundTrips }
  let low = 0
  let high = top - near.length
  while (high - low > 1) {
    const middle = low + Math.floor((high - low) / 2)
    if ((await together([middle]))[0]) low = middle
    else high = middle
  }
  return { height: low, requests, roundTrips }
}
