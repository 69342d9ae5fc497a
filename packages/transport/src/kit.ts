/**
 * `@chronos/transport/kit`: the parts a new transport is built from, so it
 * implements only what is specific to it (see README "Writing a transport").
 *
 * - `AbstractConnection`: send buffer, backpressure, drain, pause, idle
 *   timer and close bookkeeping; a subclass adds write, bufferedBytes,
 *   pause/resume reading and teardown.
 * - `StreamSocketConnection`: a whole connection over any byte-stream
 *   socket (TLS, Unix domain, ...): framing, frame timeout, close grace.
 * - `attemptDial`: a dial's signal, timeout and settle-once.
 * - `InboundConnections`: per-listener and per-host admission, tracking
 *   and close-all.
 * - `resolveOptions`: the defaults every transport shares.
 */
export { AbstractConnection, type ConnectionInit } from './abstract-connection.js'
export { attemptDial, type DialStarter } from './dial-attempt.js'
export { InboundConnections, type Refusal } from './inbound-limiter.js'
export {
  CLOSE_GRACE_MS,
  type StreamConnectionInit,
  StreamSocketConnection,
} from './stream-connection.js'
export { normaliseHost } from './tcp.js'
export { type ResolvedTransportOptions, resolveOptions } from './types.js'
