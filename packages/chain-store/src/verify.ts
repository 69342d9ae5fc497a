/** A full walk of the stored chain, for `chronos-node verify` and after crashes. */
import { type Block, checkValidOnParent, checkWellFormed, type NetworkParams } from '@chronos/codec'
import type { ChainDatabase } from './chain-store.js'
import { ALL_BLOCKS, blockKey, hashKey } from './keys.js'

export type VerifyReport =
  | { ok: true; height: number; blocks: number }
  | { ok: false; height: number; problem: string }

export async function verifyChain(
  db: ChainDatabase,
  genesis: Block,
  params: NetworkParams,
): Promise<VerifyReport> {
  let expected = 0
  let parent: Block | undefined
  for await (const [key, json] of db.iterator(ALL_BLOCKS)) {
    if (key !== blockKey(expected)) return { ok: false, height: expected, problem: 'block missing' }
    const height = expected
    let value: unknown
    try {
      value = JSON.parse(json)
    } catch {
      return { ok: false, height, problem: 'block record unreadable' }
    }
    // The codec's one rule, on our network: a permissioned chain verifies its seals too.
    const check = checkWellFormed(value, { network: params })
    if (!check.ok) return { ok: false, height, problem: `not well-formed: ${check.message}` }
    const block = check.block
    if (block.block_header.height !== height)
      return { ok: false, height, problem: `record holds height ${block.block_header.height}` }
    if (parent) {
      const link = checkValidOnParent(block, parent, params)
      if (!link.ok) return { ok: false, height, problem: link.message }
    } else if (block.block_header.hash !== genesis.block_header.hash) {
      return { ok: false, height, problem: 'not the genesis block' }
    }
    if ((await db.get(hashKey(block.block_header.hash))) !== String(height)) {
      return { ok: false, height, problem: 'hash index does not point here' }
    }
    parent = block
    expected++
  }
  if (!parent) return { ok: false, height: 0, problem: 'block missing' }
  return { ok: true, height: expected - 1, blocks: expected }
}
