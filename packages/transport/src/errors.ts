import { ChronosError } from '@chronos/codec'

export type TransportErrorCode =
  | 'DIAL_FAILED'
  | 'DIAL_TIMEOUT'
  | 'ABORTED'
  | 'CONNECTION_CLOSED'
  | 'WRITE_BUFFER_FULL'
  | 'LISTEN_FAILED'
  | 'INVALID_ADDRESS'
  | 'BUFFER_BUDGET_EXCEEDED'

export class TransportError extends ChronosError<TransportErrorCode> {}

export class DialError extends TransportError {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super('DIAL_FAILED', `dial ${address} failed: ${(cause as Error)?.message ?? cause}`, { cause })
  }
}

export class DialTimeoutError extends TransportError {
  constructor(
    readonly address: string,
    readonly timeoutMs: number,
  ) {
    super('DIAL_TIMEOUT', `dial ${address} did not complete within ${timeoutMs} ms`)
  }
}

export class AbortedError extends TransportError {
  override readonly name = 'AbortError'
  constructor(what: string) {
    super('ABORTED', `${what} aborted`)
  }
}

export class ConnectionClosedError extends TransportError {
  constructor(readonly reason: string) {
    super('CONNECTION_CLOSED', `connection is closed (${reason})`)
  }
}

export class WriteBufferFullError extends TransportError {
  constructor(
    readonly bufferedBytes: number,
    readonly maxWriteBufferBytes: number,
  ) {
    super(
      'WRITE_BUFFER_FULL',
      `peer is not reading: ${bufferedBytes} bytes buffered would pass the ${maxWriteBufferBytes}-byte cap`,
    )
  }
}

export class ListenError extends TransportError {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super('LISTEN_FAILED', `listen on ${address} failed: ${(cause as Error)?.message ?? cause}`, {
      cause,
    })
  }
}

export class InvalidAddressError extends TransportError {
  constructor(readonly address: string) {
    super('INVALID_ADDRESS', `not a host:port address: ${JSON.stringify(address)}`)
  }
}
