/**
 * Block validity (PROTOCOL.md section 6) as data: every check returns an
 * outcome union, so a caller decides what a failure costs the peer.
 */
import { MAX_CLOCK_AHEAD_MS } from './constants.js'
import { CodecError } from './errors.js'
import { computeHeaderHash, computeTxRoot } from './hashing.js'
import { formatPath } from './message.js'
import { type RoundClock, roundOf } from './rounds.js'
import { type Block, type BlockHeader, blockSchema, type Transaction } from './schema.js'

/** Why a block is not well-formed. Each of these is a protocol error. */
export type MalformedReason =
  | 'SCHEMA'
  | 'NOT_CANONICALIZABLE'
  | 'HASH_MISMATCH'
  | 'TX_ROOT_MISMATCH'

export type WellFormedCheck =
  | { ok: true; block: Block }
  | { ok: false; reason: MalformedReason; message: string }

/** Why a well-formed block cannot extend a parent. Not a protocol error: the block is dropped. */
export type ParentMismatch = 'PREV_HASH' | 'HEIGHT' | 'TIMESTAMP' | 'ROUND'

export type ParentCheck = { ok: true } | { ok: false; reason: ParentMismatch; message: string }

/**
 * Recomputes `hash` and `tx_root` of a block that already matches the
 * schema. The header hash is checked first: it is one hash, the root is one
 * per transaction.
 */
export function verifyBlockHashes(block: Block): WellFormedCheck {
  const header = block.block_header
  try {
    const hash = computeHeaderHash(header)
    if (hash !== header.hash) {
      return {
        ok: false,
        reason: 'HASH_MISMATCH',
        message: `header hash is ${hash}, block says ${header.hash}`,
      }
    }
    const txRoot = computeTxRoot(block.transactions)
    if (txRoot !== header.tx_root) {
      return {
        ok: false,
        reason: 'TX_ROOT_MISMATCH',
        message: `tx_root of the transactions is ${txRoot}, header says ${header.tx_root}`,
      }
    }
  } catch (error) {
    if (error instanceof CodecError)
      return { ok: false, reason: 'NOT_CANONICALIZABLE', message: error.message }
    throw error
  }
  return { ok: true, block }
}

/** Well-formed: matches section 5 and its `hash` and `tx_root` recompute exactly. */
export function checkWellFormed(value: unknown): WellFormedCheck {
  const parsed = blockSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue ? formatPath(issue.path).replace(/^data/, 'block') : 'block'
    return { ok: false, reason: 'SCHEMA', message: `${where}: ${issue?.message ?? 'invalid'}` }
  }
  return verifyBlockHashes(parsed.data)
}

/** Timely: the timestamp is at most `maxAheadMs` (default 15 s) ahead of the receiver's clock. */
export function isTimely(block: Block, nowMs: number, maxAheadMs = MAX_CLOCK_AHEAD_MS): boolean {
  return block.block_header.timestamp - nowMs <= maxAheadMs
}

/** Valid on parent P: links to P, height P+1, later timestamp, later round. */
export function checkValidOnParent(block: Block, parent: Block, clock: RoundClock): ParentCheck {
  const b = block.block_header
  const p = parent.block_header
  if (b.prev_hash !== p.hash) {
    return {
      ok: false,
      reason: 'PREV_HASH',
      message: `prev_hash ${b.prev_hash} is not the parent ${p.hash}`,
    }
  }
  if (b.height !== p.height + 1) {
    return { ok: false, reason: 'HEIGHT', message: `height ${b.height} on a parent at ${p.height}` }
  }
  if (b.timestamp <= p.timestamp) {
    return {
      ok: false,
      reason: 'TIMESTAMP',
      message: `timestamp ${b.timestamp} not after the parent's ${p.timestamp}`,
    }
  }
  const round = roundOf(b.timestamp, clock)
  const parentRound = roundOf(p.timestamp, clock)
  if (round <= parentRound) {
    return {
      ok: false,
      reason: 'ROUND',
      message: `round ${round} not after the parent's round ${parentRound}`,
    }
  }
  return { ok: true }
}

export interface BlockFields {
  height: number
  prevHash: string
  timestamp: number
  producer: string
  transactions: Transaction[]
}

/** Builds a block with its `tx_root` and `hash` computed; header members in the spec's order. */
export function createBlock(fields: BlockFields): Block {
  const header: Omit<BlockHeader, 'hash'> = {
    height: fields.height,
    prev_hash: fields.prevHash,
    timestamp: fields.timestamp,
    tx_root: computeTxRoot(fields.transactions),
    producer: fields.producer,
  }
  return {
    block_header: { ...header, hash: computeHeaderHash(header) },
    transactions: fields.transactions,
  }
}
