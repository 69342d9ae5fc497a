/**
 * `@chronos/peer`: Chronos peer sessions. The Client and Server sides of a
 * connection (handshake, role rules, pipelined requests answered in order),
 * identity proofs (section 11), peers identified by proven key or Status
 * address with one bounded known set each, and the PeerManager that dials,
 * accepts, caps, redials, evicts by merit and bans (bounded).
 */
export {
  AddressBook,
  type AddressBookLimits,
  type AddressBookStorage,
  type BookEntry,
  type BookEvent,
  DEFAULT_ADDRESS_BOOK_LIMITS,
} from './address-book.js'
export type {
  AnnounceAnswer,
  ClientSession,
  ClientSessionEvents,
  HandshakeOptions,
  HandshakeResult,
} from './client-session.js'
export {
  type BackoffLimits,
  type DialClock,
  type DialEvent,
  type DialState,
  nextDialState,
} from './dialing.js'
export {
  ImpossibleHeightError,
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
export { FEATURE_OBSERVER, Peer } from './peer.js'
export {
  type ConnectionClosed,
  DEFAULT_PEER_LIMITS,
  type LocalChainStatus,
  type PeerLimits,
  PeerManager,
  type PeerManagerEvents,
  type PeerManagerOptions,
  type PeerSpec,
  parsePeerSpec,
} from './peer-manager.js'
export { DEFAULT_PENALTY_LIMITS, PenaltyBox, type PenaltyLimits } from './penalty-box.js'
export type {
  BlockScreen,
  ServerHandlers,
  ServerSession,
  ServerSessionEvents,
} from './server-session.js'
export {
  type BlockCheckCache,
  DEFAULT_SESSION_LIMITS,
  type SessionContext,
  type SessionLimits,
} from './session-context.js'
