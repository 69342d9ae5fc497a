/**
 * Canonical hashes (PROTOCOL.md section 5): transaction ids, the Merkle
 * `tx_root` and the header hash. SHA-256 from node:crypto.
 */
import { hash as oneShotHash } from 'node:crypto'
import { canonicalize } from './jcs.js'
import type { BlockHeader, Transaction } from './schema.js'

const MERKLE_NODE_PREFIX = 0x01

// One-shot hashing skips a Hash object per call: a block needs one call per
// transaction and per Merkle node, so per-call overhead is the cost that counts.

/** SHA-256 of a string's UTF-8 bytes, or of raw bytes. */
export function sha256(data: string | Uint8Array): Buffer {
  return oneShotHash('sha256', data, 'buffer')
}

export function sha256Hex(data: string | Uint8Array): string {
  return oneShotHash('sha256', data, 'hex')
}

/** The 32 raw bytes of a transaction id: SHA-256 of JCS(transaction). */
export function transactionIdBytes(transaction: Transaction): Buffer {
  return sha256(canonicalize(transaction))
}

export function transactionId(transaction: Transaction): string {
  return sha256Hex(canonicalize(transaction))
}

/**
 * Merkle root over 32-byte leaves: neighbours are paired as
 * SHA-256(0x01 || left || right); an odd last node is carried up unchanged.
 * No leaves: SHA-256 of the empty string.
 */
export function merkleRoot(leaves: readonly Uint8Array[]): string {
  if (leaves.length === 0) return sha256Hex('')
  let level: Uint8Array[] = leaves.slice()
  const pair = Buffer.allocUnsafe(65)
  pair[0] = MERKLE_NODE_PREFIX
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i + 1 < level.length; i += 2) {
      pair.set(level[i]!, 1)
      pair.set(level[i + 1]!, 33)
      next.push(sha256(pair))
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]!)
    level = next
  }
  return Buffer.from(level[0]!).toString('hex')
}

export function computeTxRoot(transactions: readonly Transaction[]): string {
  return merkleRoot(transactions.map(transactionIdBytes))
}

/** SHA-256 of JCS(header without `hash`). */
export function computeHeaderHash(header: Omit<BlockHeader, 'hash'>): string {
  return sha256Hex(
    canonicalize({
      height: header.height,
      prev_hash: header.prev_hash,
      timestamp: header.timestamp,
      tx_root: header.tx_root,
      producer: header.producer,
    }),
  )
}
