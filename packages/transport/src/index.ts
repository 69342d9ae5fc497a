/**
 * `@chronos/transport`: the transport contract, and the TCP and in-memory
 * transports. The compliance suite is `@chronos/transport/compliance`.
 */
export { AbstractConnection, type ConnectionInit } from './abstract-connection.js'
export {
  BUFFER_BUDGET_EXCEEDED,
  BufferBudget,
  BufferBudgetExceededError,
} from './buffer-budget.js'
export { attemptDial, type DialStarter } from './dial-attempt.js'
export {
  AbortedError,
  ConnectionClosedError,
  DialError,
  DialTimeoutError,
  InvalidAddressError,
  ListenError,
  TransportError,
  type TransportErrorCode,
  WriteBufferFullError,
} from './errors.js'
export { InboundConnections, InboundLimiter, type Refusal } from './inbound-limiter.js'
export {
  type LinkConditions,
  MemoryConnection,
  MemoryNetwork,
  type MemoryNetworkOptions,
  memoryNetwork,
} from './memory.js'
export { SharedBlocks } from './shared-blocks.js'
export { normaliseHost, TcpConnection, TcpTransport, tcpTransport } from './tcp.js'
export {
  type CloseInfo,
  type CloseReason,
  type Connection,
  type ConnectionEvents,
  type DialOptions,
  type Direction,
  type Listener,
  type Logger,
  type ResolvedTransportOptions,
  resolveOptions,
  silentLogger,
  type Transport,
  type TransportOptions,
} from './types.js'
