/**
 * `@chronos/transport`: the transport contract and the built-in transports'
 * factories (`tcpTransport`, `memoryNetwork`). Writing a transport:
 * `@chronos/transport/kit`. The compliance suite: `@chronos/transport/compliance`.
 */
export {
  BUFFER_BUDGET_EXCEEDED,
  BufferBudget,
  BufferBudgetExceededError,
} from './buffer-budget.js'
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
export {
  type LinkConditions,
  type MemoryNetwork,
  type MemoryNetworkOptions,
  memoryNetwork,
  type Transmission,
} from './memory.js'
export { SharedBlocks } from './shared-blocks.js'
export { tcpTransport } from './tcp.js'
export type {
  CloseInfo,
  CloseReason,
  Connection,
  ConnectionEvents,
  DialOptions,
  Direction,
  Listener,
  Transport,
  TransportOptions,
} from './types.js'
