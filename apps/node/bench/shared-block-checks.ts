// Simulations only: with `shareBlocks`, every simulated node receives the
// very same deeply frozen block object for one block, and all of them check
// it against the same network, so the check comes out the same for each:
// it is done once and remembered by object. A block the network does not
// share (a node's own, or one read from a store) is checked as usual.
import type { Block, WellFormedCheck } from '@chronos/codec'
import type { BlockCheckCache } from '@chronos/peer'
import type { SharedBlocks } from '@chronos/transport'

export function sharedBlockChecks(shared: SharedBlocks): BlockCheckCache {
  const checks = new WeakMap<Block, WellFormedCheck>()
  return {
    get: (block) => checks.get(block),
    set: (block, check) => {
      if (shared.isShared(block)) checks.set(block, check)
    },
  }
}
