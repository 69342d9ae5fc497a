import type { ChainStore } from '@chronos/chain-store'
import type { Block } from '@chronos/codec'

/** Reads the peer's confirmed block at a height (PULL_BLOCK), null when it has none. */
export type PullBlock = (height: number) => Promise<Block | null>

export interface Ancestor {
  /** Highest height where both chains hold the same block. */
  height: number
  /** PULL_BLOCK requests it took. */
  requests: number
}

/**
 * Finds the highest block our chain shares with a peer's, by binary search
 * over PULL_BLOCK: O(log n) round trips instead of a walk back from the
 * head. Heights at or below a shared block are shared too (each block
 * commits to its parent), which is what makes bisection valid. Genesis is
 * shared by construction: the handshake already refused other networks.
 */
export async function findCommonAncestor(
  store: ChainStore,
  pull: PullBlock,
  peerHeight: number,
): Promise<Ancestor> {
  let requests = 0
  const shared = async (height: number) => {
    requests++
    const [theirs, ours] = await Promise.all([pull(height), store.getByHeight(height)])
    return (
      theirs !== null && ours !== undefined && theirs.block_header.hash === ours.block_header.hash
    )
  }
  const top = Math.min(store.height(), peerHeight)
  // The common case, a peer that simply extends our chain, costs one request.
  if (await shared(top)) return { height: top, requests }
  let low = 0
  let high = top
  while (high - low > 1) {
    const middle = low + Math.floor((high - low) / 2)
    if (await shared(middle)) low = middle
    else high = middle
  }
  return { height: low, requests }
}
