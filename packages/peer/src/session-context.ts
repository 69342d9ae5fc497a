import {
  type Block,
  type Logger,
  type MalformedReason,
  maxPossibleHeight,
  type NetworkParams,
  type NodeKey,
  type PeerEntry,
  type Status,
  verifyBlock,
  verifyBlockHashes,
  type WellFormedCheck,
} from '@chronos/codec'
import type { Connection } from '@chronos/transport'
import { ImpossibleHeightError, PeerProtocolError, PEER_CLOSE_REASONS as R } from './errors.js'
import type { ServerSession } from './server-session.js'

/** What a session needs from the node around it. */
export interface SessionContext {
  /**
   * Our Status as of now, for a SHAKEHAND. `opening`: the first of the
   * connection, which names our genesis; later ones leave it out, since it
   * cannot change and the peer has already checked it.
   */
  localStatus(opening: boolean): Status
  /**
   * Our genesis hash: a peer naming another one is on another network.
   * Undefined for an observer that follows whatever network it joins.
   */
  genesisHash: string | undefined
  /** Our network: blocks are verified against it, Status heights against its clock. Undefined for an observer. */
  network: NetworkParams | undefined
  /** Our node key (section 11): proven on every connection that asks. */
  identity: NodeKey | undefined
  /** Refuse peers that prove no key (IDENTITY_REQUIRED). */
  requireIdentity: boolean
  /** Unix ms now (the injected clock). */
  now(): number
  /** A fresh handshake nonce (section 11). Default: 32 random bytes; tests pin it to replay the vectors. */
  nonce?: () => string
  /** Our PEERS answer (section 13); undefined when we do not offer the feature `peers`. */
  peerExchange: ((asker: ServerSession) => PeerEntry[]) | undefined
  /** Results of checkBlock kept for reuse (see BlockCheckCache); undefined: every block is checked. */
  blockChecks?: BlockCheckCache
  logger: Logger
  limits: SessionLimits
}

export interface SessionLimits {
  /** The SHAKEHAND exchange (identity proofs included) must complete within this. Default 5 s. */
  handshakeTimeoutMs: number
  /** The oldest unanswered request may wait this long before the connection is closed. Default 10 s. */
  requestTimeoutMs: number
  /** Requests a Client keeps in flight on one connection. Default 1024. */
  maxPendingRequests: number
  /** Answers a Server holds for one connection before it stops reading from it. Default 256. */
  maxPendingAnswers: number
  /**
   * Answers a Server produces ahead of sending (each may hold a block):
   * what a Client that stops reading can make us hold. Default 4.
   */
  answerWindow: number
  /** A Client that takes nothing we send for this long is closed (SLOW_READER). Default 20 s. */
  writeStallTimeoutMs: number
  /** The frame body limit: a block must fit a NEW_BLOCK envelope within it. Default 8 MiB. */
  maxBodyBytes: number
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  handshakeTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  maxPendingRequests: 1024,
  maxPendingAnswers: 256,
  answerWindow: 4,
  writeStallTimeoutMs: 20_000,
  maxBodyBytes: 8 * 1024 * 1024,
}

/** Why a Status closes the connection, if it does. */
export interface StatusProblem {
  reason: string
  message: string
  /** The typed error to close with, when the reason has one carrying its figures. */
  error?: PeerProtocolError
}

/**
 * The checks every SHAKEHAND gets, on both sides: the same network, and a
 * height a chain of one block per round could have reached (section 4).
 */
export function checkStatus(status: Status, context: SessionContext): StatusProblem | undefined {
  const ours = context.genesisHash
  if (status.genesis !== undefined && ours !== undefined && status.genesis !== ours)
    return {
      reason: R.GENESIS_MISMATCH,
      message: `peer genesis ${status.genesis} is not ours (${ours})`,
    }
  if (context.network) {
    const limit = maxPossibleHeight(context.now(), context.network)
    if (status.height > limit) {
      const error = new ImpossibleHeightError(status.height, limit, status.address)
      return { reason: R.IMPOSSIBLE_HEIGHT, message: error.message, error }
    }
  }
  return undefined
}

/**
 * Simulations only: where many nodes in one process receive the very same
 * immutable block object (the memory network's `shareBlocks`), the check
 * comes out the same for each of them; a cache shared by those nodes keeps
 * it. It decides itself which blocks it remembers (`set` may ignore one).
 */
export interface BlockCheckCache {
  get(block: Block): WellFormedCheck | undefined
  set(block: Block, check: WellFormedCheck): void
}

/** Well-formed on our network (the codec's one rule), or by hashes alone for an observer. */
export function checkBlock(block: Block, context: SessionContext): WellFormedCheck {
  const cached = context.blockChecks?.get(block)
  if (cached) return cached
  const check = context.network
    ? verifyBlock(block, { network: context.network, maxBodyBytes: context.limits.maxBodyBytes })
    : verifyBlockHashes(block)
  context.blockChecks?.set(block, check)
  return check
}

export type { MalformedReason }

/**
 * How either session refuses its peer: closes the connection with `reason`
 * (a `PEER_CLOSE_REASONS` value) and a `PeerProtocolError` saying what was wrong.
 */
export function refuse(
  connection: Connection,
  reason: string,
  problem: string | PeerProtocolError,
): void {
  connection.close(
    reason,
    typeof problem === 'string' ? new PeerProtocolError(reason as never, problem) : problem,
  )
}
