// Simulations only: with `shareBlocks`, every simulated node receives the
// very same deeply frozen block object for one block; its hashes come out
// the same for every node, so they are computed once and remembered by
// object. A block the network does not share (a node's own, or one read
// from a store) is verified as usual.
import { type Block, verifyBlockHashes, type WellFormedCheck } from '@chronos/codec'
import type { BlockVerifier } from '@chronos/peer'
import type { SharedBlocks } from '@chronos/transport'

export function sharedVerifier(shared: SharedBlocks): BlockVerifier {
  const checked = new WeakMap<Block, WellFormedCheck>()
  return (block) => {
    if (!shared.isShared(block)) return verifyBlockHashes(block)
    let check = checked.get(block)
    if (!check) {
      check = verifyBlockHashes(block)
      checked.set(block, check)
    }
    return check
  }
}
