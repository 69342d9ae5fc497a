import { ChronosError } from '@chronos/codec'

/**
 * Why a peer connection was closed by us, beyond the transport's own
 * reasons. These are the stable codes that appear in logs and metrics.
 */
export const PEER_CLOSE_REASONS = {
  /** The Client's first message was not SHAKEHAND (PROTOCOL.md section 1). */
  REQUEST_BEFORE_SHAKEHAND: 'REQUEST_BEFORE_SHAKEHAND',
  /** A code the sender's role may not send (section 4). */
  WRONG_ROLE: 'WRONG_ROLE',
  /** An answer with no request waiting, or not the answer the oldest request expects. */
  UNEXPECTED_ANSWER: 'UNEXPECTED_ANSWER',
  /** A block whose hash or tx_root does not recompute (section 6). */
  MALFORMED_BLOCK: 'MALFORMED_BLOCK',
  /** The peer's Status names another genesis: another network. */
  GENESIS_MISMATCH: 'GENESIS_MISMATCH',
  /** The oldest request went unanswered for too long. */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  /** The SHAKEHAND exchange did not complete in time. */
  HANDSHAKE_TIMEOUT: 'HANDSHAKE_TIMEOUT',
  /** The peer's address is temporarily refused after repeated errors. */
  BANNED: 'BANNED',
  /** A newer connection from the same peer address replaced this one. */
  DUPLICATE_CONNECTION: 'DUPLICATE_CONNECTION',
  /** We dialed ourselves (our own advertised address came back). */
  SELF_CONNECTION: 'SELF_CONNECTION',
  /** Peer caps are reached. */
  PEER_LIMIT: 'PEER_LIMIT',
  /** The peer served a block that is invalid on its parent or not the one asked for. */
  INVALID_BLOCK: 'INVALID_BLOCK',
  /** (1.1) A Status height above the current round + 1: no chain can be that long (section 4). */
  IMPOSSIBLE_HEIGHT: 'IMPOSSIBLE_HEIGHT',
  /** (1.1) An identity proof that does not verify, a changed key, or a message before the proof (section 11). */
  BAD_PROOF: 'BAD_PROOF',
  /** (1.1) A pinned peer (`KEY@host:port`) proved another key, or none. */
  KEY_MISMATCH: 'KEY_MISMATCH',
  /** (1.1) The peer proves no key and we require one. */
  IDENTITY_REQUIRED: 'IDENTITY_REQUIRED',
  /** The Client took nothing we sent for too long: it holds our answers without reading them. */
  SLOW_READER: 'SLOW_READER',
  /** (1.1) A request for a feature we did not offer in our Status (GET_PEERS without `peers`). */
  NOT_OFFERED: 'NOT_OFFERED',
  /** A better peer needed the outbound slot this one held (it delivered nothing lately). */
  EVICTED: 'EVICTED',
  /** The peer's Status claims a height it then does not serve (PULL_BLOCK answered null). */
  CLAIM_NOT_SERVED: 'CLAIM_NOT_SERVED',
  /** A local handler failed while answering. */
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  /** The node is shutting down. */
  SHUTDOWN: 'SHUTDOWN',
} as const

export type PeerCloseReason = (typeof PEER_CLOSE_REASONS)[keyof typeof PEER_CLOSE_REASONS]

/** Close reasons that count against the peer (protocol errors and misbehaviour). */
export const PENALISED_REASONS: ReadonlySet<string> = new Set([
  'PROTOCOL_ERROR',
  'FRAME_TIMEOUT',
  PEER_CLOSE_REASONS.REQUEST_BEFORE_SHAKEHAND,
  PEER_CLOSE_REASONS.WRONG_ROLE,
  PEER_CLOSE_REASONS.UNEXPECTED_ANSWER,
  PEER_CLOSE_REASONS.MALFORMED_BLOCK,
  PEER_CLOSE_REASONS.INVALID_BLOCK,
  PEER_CLOSE_REASONS.IMPOSSIBLE_HEIGHT,
  PEER_CLOSE_REASONS.BAD_PROOF,
  PEER_CLOSE_REASONS.SLOW_READER,
  PEER_CLOSE_REASONS.NOT_OFFERED,
  PEER_CLOSE_REASONS.CLAIM_NOT_SERVED,
])

export type PeerErrorCode = PeerCloseReason | 'PEER_GONE' | 'TOO_MANY_PENDING'

/** A failure in a peer session; `code` names the close reason or the request failure. */
export class PeerError extends ChronosError<PeerErrorCode> {}

/** A request could not complete because its connection closed first. */
export class PeerGoneError extends PeerError {
  constructor(
    readonly peer: string,
    readonly reason: string,
  ) {
    super('PEER_GONE', `connection to ${peer} closed (${reason}) before the answer came`)
  }
}

/** The Client already has the maximum of requests waiting on this connection. */
export class TooManyPendingError extends PeerError {
  constructor(
    readonly peer: string,
    readonly limit: number,
  ) {
    super('TOO_MANY_PENDING', `${limit} requests already wait on ${peer}`)
  }
}

/** Why a session closed the connection: carries the stable reason and what was wrong. */
export class PeerProtocolError extends PeerError {}

/**
 * A Status claimed a height that no chain of one block per round can have
 * reached by our clock (section 4). From one peer, a lie; from many honest
 * ones, a sign that our own clock is slow: it carries the numbers so a node
 * can tell its operator by how much.
 */
export class ImpossibleHeightError extends PeerProtocolError {
  constructor(
    /** The height the Status claimed. */
    readonly height: number,
    /** The highest possible by our clock: our current round + 1. */
    readonly limit: number,
    /** The Status's `address` (a claim: the peer chose it). */
    readonly address: string,
  ) {
    super(
      PEER_CLOSE_REASONS.IMPOSSIBLE_HEIGHT,
      `Status height ${height} is above ${limit}, the current round + 1`,
    )
  }
}
