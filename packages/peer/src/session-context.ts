import type { Logger, Status } from '@chronos/codec'

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
  logger: Logger
  limits: SessionLimits
}

export interface SessionLimits {
  /** The SHAKEHAND exchange must complete within this. Default 5 s. */
  handshakeTimeoutMs: number
  /** The oldest unanswered request may wait this long before the connection is closed. Default 10 s. */
  requestTimeoutMs: number
  /** Requests a Client keeps in flight on one connection. Default 1024. */
  maxPendingRequests: number
  /** Answers a Server holds for one connection before it stops reading from it. Default 256. */
  maxPendingAnswers: number
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  handshakeTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  maxPendingRequests: 1024,
  maxPendingAnswers: 256,
}
