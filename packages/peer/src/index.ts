/**
 * `@chronos/peer`: Chronos peer sessions. The Client and Server sides of a
 * connection (handshake, role rules, pipelined requests answered in order),
 * peers identified by their Status address with one bounded known set each,
 * and the PeerManager that dials, accepts, caps, redials and bans.
 */
export type { AnnounceAnswer, ClientSession, ClientSessionEvents } from './client-session.js'
export {
  PEER_CLOSE_REASONS,
  PENALISED_REASONS,
  type PeerCloseReason,
  PeerError,
  type PeerErrorCode,
  PeerGoneError,
  PeerProtocolError,
  TooManyPendingError,
} from './errors.js'
export { KnownSet } from './known-set.js'
export { Peer } from './peer.js'
export {
  DEFAULT_PEER_LIMITS,
  type LocalChainStatus,
  type PeerLimits,
  PeerManager,
  type PeerManagerEvents,
  type PeerManagerOptions,
} from './peer-manager.js'
export type { ServerHandlers, ServerSession, ServerSessionEvents } from './server-session.js'
export {
  DEFAULT_SESSION_LIMITS,
  type SessionContext,
  type SessionLimits,
} from './session-context.js'
