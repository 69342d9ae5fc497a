/**
 * The transport contract. Sync and gossip see only these interfaces, so a
 * new transport (QUIC, WebRTC, ...) plugs in without touching them.
 */
import type { EventEmitter } from 'node:events'
import { type Logger, type Message, silentLogger } from '@chronos/codec'
import { BufferBudget } from './buffer-budget.js'

export type Direction = 'inbound' | 'outbound'

/**
 * Why a connection closed. The built-in reasons are below; engines may
 * close with their own stable codes (e.g. `GENESIS_MISMATCH`).
 */
export type CloseReason =
  | 'LOCAL_CLOSE'
  | 'REMOTE_CLOSE'
  | 'PROTOCOL_ERROR'
  | 'IDLE_TIMEOUT'
  | 'FRAME_TIMEOUT'
  | 'WRITE_BUFFER_FULL'
  | 'TRANSPORT_ERROR'
  | 'LISTENER_CLOSED'
  | 'BUFFER_BUDGET_EXCEEDED'
  | (string & {})

export interface CloseInfo {
  reason: CloseReason
  /** Who decided: we did (`local`), or the peer or the network did (`remote`). */
  initiator: 'local' | 'remote'
  /** The error behind a PROTOCOL_ERROR or TRANSPORT_ERROR. */
  error?: Error
}

export interface ConnectionEvents {
  message: [message: Message]
  /** The send buffer fell back under the high-water mark after `send` returned false. */
  drain: []
  close: [info: CloseInfo]
}

export interface Connection extends EventEmitter<ConnectionEvents> {
  /** Unique within the process, for logs. */
  readonly id: string
  /** Name of the transport that made it (`tcp`, `memory`, `ws`). */
  readonly transport: string
  readonly direction: Direction
  readonly localAddress: string
  readonly remoteAddress: string
  readonly status: 'open' | 'closed'
  /** Bytes accepted by `send` that the peer has not taken yet. */
  readonly bufferedBytes: number
  /**
   * Sends one message. Returns false when the send buffer is over the
   * high-water mark: wait for `drain` (or `drained()`) before sending more.
   * Throws ConnectionClosedError on a closed connection, FrameTooLargeError
   * for a message over the body limit, and WriteBufferFullError (closing
   * the connection) when the buffer would pass its hard cap.
   */
  send(message: Message): boolean
  /** Resolves when the buffer is under the high-water mark; rejects if the connection closes first. */
  drained(): Promise<void>
  /** Stops delivering messages (and reading, where the transport can); they queue until `resume`. */
  pause(): void
  resume(): void
  /** Idempotent. Protocol and resource errors drop anything unsent; a LOCAL_CLOSE flushes first. */
  close(reason?: CloseReason, error?: Error): void
  /** Settles once, with why the connection closed. */
  readonly closed: Promise<CloseInfo>
}

export interface Listener {
  /** The bound address, with the real port when 0 was asked for. */
  readonly address: string
  /** Inbound connections currently open through this listener. */
  readonly connectionCount: number
  /** Stops accepting, frees the address, closes its connections (LISTENER_CLOSED). */
  close(): Promise<void>
}

export interface DialOptions {
  signal?: AbortSignal
}

export interface Transport {
  readonly name: string
  listen(address: string, onConnection: (connection: Connection) => void): Promise<Listener>
  dial(address: string, options?: DialOptions): Promise<Connection>
}

/** Options every transport accepts. See docs/LIMITS.md. */
export interface TransportOptions {
  /** Largest message body sent or received. Default 8 MiB. */
  maxBodyBytes?: number
  /** `send` returns false above this many buffered bytes. Default 1 MiB. */
  highWaterMarkBytes?: number
  /** Hard cap on buffered bytes; passing it closes the connection (WRITE_BUFFER_FULL). Default 32 MiB. */
  maxWriteBufferBytes?: number
  /** A dial that has not completed by then fails with DIAL_TIMEOUT. Default 10 s. */
  dialTimeoutMs?: number
  /** A connection that receives nothing for this long closes with IDLE_TIMEOUT. Default 30 s; 0 disables. */
  idleTimeoutMs?: number
  /** A frame that stays incomplete this long closes the connection (FRAME_TIMEOUT). Default 30 s. */
  frameTimeoutMs?: number
  /** Inbound connections per listener. Default 256. */
  maxInboundConnections?: number
  /** Inbound connections per remote host (IP). Default 32. */
  maxInboundPerHost?: number
  /**
   * Bytes buffered across all connections (frames arriving plus send
   * buffers); the connection that would pass it closes BUFFER_BUDGET_EXCEEDED.
   * Default 256 MiB, one budget per transport; pass `bufferBudget` to share one.
   */
  maxBufferedBytes?: number
  /** A budget shared with other transports (it wins over `maxBufferedBytes`). */
  bufferBudget?: BufferBudget
  logger?: Logger
}

export type ResolvedTransportOptions = Required<TransportOptions>

export function resolveOptions(options: TransportOptions = {}): ResolvedTransportOptions {
  return {
    maxBodyBytes: options.maxBodyBytes ?? 8 * 1024 * 1024,
    highWaterMarkBytes: options.highWaterMarkBytes ?? 1024 * 1024,
    maxWriteBufferBytes: options.maxWriteBufferBytes ?? 32 * 1024 * 1024,
    dialTimeoutMs: options.dialTimeoutMs ?? 10_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    frameTimeoutMs: options.frameTimeoutMs ?? 30_000,
    maxInboundConnections: options.maxInboundConnections ?? 256,
    maxInboundPerHost: options.maxInboundPerHost ?? 32,
    maxBufferedBytes:
      options.bufferBudget?.maxBytes ?? options.maxBufferedBytes ?? 256 * 1024 * 1024,
    bufferBudget:
      options.bufferBudget ?? new BufferBudget(options.maxBufferedBytes ?? 256 * 1024 * 1024),
    logger: options.logger ?? silentLogger,
  }
}
