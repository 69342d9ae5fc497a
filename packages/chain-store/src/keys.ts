/**
 * Key layout. Heights are zero-padded to 16 digits (2^53 has 16), so
 * LevelDB's byte order is height order and range scans need no decoding.
 *
 *   meta:genesis  -> genesis hash
 *   block:<h16>   -> block JSON, for every height 0..head
 *   hash:<hash>   -> height, for every block on the chain
 *
 * The head is the highest `block:` key: there is no head record to keep in
 * step, because a reorg deletes every block above the new head in the same
 * batch that writes the new ones.
 */
export const GENESIS_KEY = 'meta:genesis'
const BLOCK_PREFIX = 'block:'
const HASH_PREFIX = 'hash:'

export const blockKey = (height: number) => BLOCK_PREFIX + String(height).padStart(16, '0')
export const hashKey = (hash: string) => HASH_PREFIX + hash

/** The range of every block key, for scans. */
export const ALL_BLOCKS = { gte: blockKey(0), lte: blockKey(Number.MAX_SAFE_INTEGER) }

export function heightOfKey(key: string): number {
  return Number(key.slice(BLOCK_PREFIX.length))
}
