/**
 * Block validity (PROTOCOL.md section 6, and section 12 for permissioned
 * networks) as data: every check returns an outcome union, so a caller
 * decides what a failure costs the peer. This is the one place where
 * "well-formed" is decided; sessions, gossip, sync and the store call it.
 */
import { acceptBlock } from './block-shape.js'
import { DEFAULT_MAX_BODY_BYTES, MAX_CLOCK_AHEAD_MS } from './constants.js'
import { CodecError } from './errors.js'
import type { NetworkParams } from './genesis.js'
import { computeHeaderHash, computeTxRoot, txRootAndListBytes } from './hashing.js'
import { verifySeal } from './identity.js'
import { canonicalize } from './jcs.js'
import { formatPath } from './message.js'
import { isRoundEnded, type RoundClock, roundOf } from './rounds.js'
import { type Block, type BlockHeader, blockSchema, type Transaction } from './schema.js'

/** Why a block is not well-formed. Each of these is a protocol error. */
export type MalformedReason =
  | 'SCHEMA'
  | 'NOT_CANONICALIZABLE'
  | 'HASH_MISMATCH'
  | 'TX_ROOT_MISMATCH'
  /** (1.1) Its JCS in a NEW_BLOCK envelope exceeds the maximum body (section 6). */
  | 'TOO_LARGE'
  /** (1.1) Permissioned: `producer` is not a listed key (section 12). */
  | 'UNLISTED_PRODUCER'
  /** (1.1) Permissioned: no `seal`, or not a sig. */
  | 'SEAL_MISSING'
  /** (1.1) Permissioned: the seal is not the producer's signature of this block on this network. */
  | 'BAD_SEAL'

export type WellFormedCheck =
  | { ok: true; block: Block }
  | { ok: false; reason: MalformedReason; message: string }

/** What "well-formed" depends on beyond the block itself. */
export interface BlockRules {
  /** The network: its producers make it permissioned, its genesis hash is sealed over. */
  network: NetworkParams
  /** The maximum frame body: a block must fit a NEW_BLOCK envelope within it. Default 8 MiB. */
  maxBodyBytes?: number
}

/** Why a well-formed block cannot extend a parent. Not a protocol error: the block is dropped. */
export type ParentMismatch = 'PREV_HASH' | 'HEIGHT' | 'TIMESTAMP' | 'ROUND'

export type ParentCheck = { ok: true } | { ok: false; reason: ParentMismatch; message: string }

const ENVELOPE_PREFIX = '{"code":"NEW_BLOCK","data":'

/** The header's own hash recomputes: the cheapest check, one hash of a few hundred bytes. */
export function verifyHeaderHash(header: BlockHeader): boolean {
  try {
    return computeHeaderHash(header) === header.hash
  } catch {
    return false
  }
}

/**
 * UTF-8 bytes of JCS(`{"code":"NEW_BLOCK","data":block}`): what the block
 * weighs when relayed or served, however short the sender wrote it.
 */
export function blockEnvelopeBytes(block: Block): number {
  return envelopeBytes(block, txRootAndListBytes(block.transactions).listBytes)
}

function envelopeBytes(block: Block, listBytes: number): number {
  // JCS orders the block's members block_header < seal < transactions.
  let bytes = ENVELOPE_PREFIX.length + 1 + '{"block_header":'.length
  bytes += Buffer.byteLength(canonicalize(block.block_header), 'utf8')
  if (block.seal !== undefined)
    bytes += ',"seal":'.length + Buffer.byteLength(canonicalize(block.seal), 'utf8')
  bytes += ',"transactions":'.length + listBytes + 1
  return bytes
}

/**
 * Well-formed by 1.0's rule alone: `hash` and `tx_root` recompute. Kept for
 * callers without a network (the genesis check); nodes call `verifyBlock`.
 */
export function verifyBlockHashes(block: Block): WellFormedCheck {
  const header = block.block_header
  try {
    const hash = computeHeaderHash(header)
    if (hash !== header.hash) return hashMismatch(hash, header.hash)
    const txRoot = computeTxRoot(block.transactions)
    if (txRoot !== header.tx_root) return txRootMismatch(txRoot, header.tx_root)
  } catch (error) {
    return notCanonicalizable(error)
  }
  return { ok: true, block }
}

/**
 * Well-formed on `rules.network` (sections 5, 6 and 12), cheap checks
 * first: the header hash, then (permissioned) the producer and its seal,
 * then one pass over the transactions for the size and the tx_root.
 * In an open network a `seal` is ignored: the block returned has none.
 */
export function verifyBlock(block: Block, rules: BlockRules): WellFormedCheck {
  const header = block.block_header
  const { producers, genesisHash } = rules.network
  const permissioned = producers !== undefined && header.height > 0
  const checked: Block =
    !permissioned && block.seal !== undefined
      ? { block_header: header, transactions: block.transactions }
      : block
  try {
    const hash = computeHeaderHash(header)
    if (hash !== header.hash) return hashMismatch(hash, header.hash)
    if (permissioned) {
      if (!producers.includes(header.producer))
        return {
          ok: false,
          reason: 'UNLISTED_PRODUCER',
          message: `producer ${header.producer.slice(0, 80)} is not an authorized producer`,
        }
      if (typeof block.seal !== 'string' || !/^[0-9a-f]{128}$/.test(block.seal))
        return { ok: false, reason: 'SEAL_MISSING', message: 'block has no seal (a 128-hex sig)' }
      if (!verifySeal(block, genesisHash))
        return {
          ok: false,
          reason: 'BAD_SEAL',
          message: `seal is not ${header.producer}'s signature of block ${header.hash}`,
        }
    }
    const { txRoot, listBytes } = txRootAndListBytes(checked.transactions)
    const maxBodyBytes = rules.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
    const bytes = envelopeBytes(checked, listBytes)
    if (bytes > maxBodyBytes)
      return {
        ok: false,
        reason: 'TOO_LARGE',
        message: `block is ${bytes} bytes in JCS in its envelope, over the ${maxBodyBytes}-byte body limit`,
      }
    if (txRoot !== header.tx_root) return txRootMismatch(txRoot, header.tx_root)
  } catch (error) {
    return notCanonicalizable(error)
  }
  return { ok: true, block: checked }
}

function hashMismatch(computed: string, claimed: string): WellFormedCheck {
  return {
    ok: false,
    reason: 'HASH_MISMATCH',
    message: `header hash is ${computed}, block says ${claimed}`,
  }
}

function txRootMismatch(computed: string, claimed: string): WellFormedCheck {
  return {
    ok: false,
    reason: 'TX_ROOT_MISMATCH',
    message: `tx_root of the transactions is ${computed}, header says ${claimed}`,
  }
}

function notCanonicalizable(error: unknown): WellFormedCheck {
  if (error instanceof CodecError)
    return { ok: false, reason: 'NOT_CANONICALIZABLE', message: error.message }
  throw error
}

/**
 * Well-formed: matches section 5 and its `hash` and `tx_root` recompute
 * exactly; with `rules`, also the 1.1 size and seal rules of that network.
 */
export function checkWellFormed(value: unknown, rules?: BlockRules): WellFormedCheck {
  const accepted = acceptBlock(value)
  if (accepted !== undefined)
    return rules ? verifyBlock(accepted, rules) : verifyBlockHashes(accepted)
  const parsed = blockSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue ? formatPath(issue.path).replace(/^data/, 'block') : 'block'
    return { ok: false, reason: 'SCHEMA', message: `${where}: ${issue?.message ?? 'invalid'}` }
  }
  return rules ? verifyBlock(parsed.data, rules) : verifyBlockHashes(parsed.data)
}

/** Timely: the timestamp is at most `maxAheadMs` (default 15 s) ahead of the receiver's clock. */
export function isTimely(block: Block, nowMs: number, maxAheadMs = MAX_CLOCK_AHEAD_MS): boolean {
  return block.block_header.timestamp - nowMs <= maxAheadMs
}

/** (1.1) Confirmable: the block's round has ended by the receiver's clock (section 6). */
export function isConfirmable(block: Block, nowMs: number, clock: RoundClock): boolean {
  return isRoundEnded(block.block_header.timestamp, nowMs, clock)
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
