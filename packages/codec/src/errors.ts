/**
 * Base class of every error Chronos packages throw on purpose. `code` is
 * stable across releases: match on it, never on `message`.
 */
export class ChronosError<Code extends string = string> extends Error {
  readonly code: Code

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

export type CodecErrorCode =
  | 'FRAME_TOO_LARGE'
  | 'FRAME_EMPTY'
  | 'FRAME_TRUNCATED'
  | 'INVALID_UTF8'
  | 'INVALID_JSON'
  | 'NESTING_TOO_DEEP'
  | 'NOT_AN_OBJECT'
  | 'UNKNOWN_CODE'
  | 'INVALID_DATA'
  | 'NOT_CANONICALIZABLE'
  | 'INVALID_GENESIS'

/** Any failure to turn bytes into a protocol message, or a value into canonical form. */
export class CodecError extends ChronosError<CodecErrorCode> {}

/** The declared body length is over the receiver's limit (checked before the body is read). */
export class FrameTooLargeError extends CodecError {
  constructor(
    readonly declaredBytes: number,
    readonly maxBodyBytes: number,
  ) {
    super(
      'FRAME_TOO_LARGE',
      `frame declares a ${declaredBytes}-byte body, over the ${maxBodyBytes}-byte limit`,
    )
  }
}

export class EmptyFrameError extends CodecError {
  constructor() {
    super('FRAME_EMPTY', 'frame declares a 0-byte body; length 0 is invalid')
  }
}

/** The stream ended in the middle of a frame. */
export class TruncatedFrameError extends CodecError {
  constructor(readonly bufferedBytes: number) {
    super('FRAME_TRUNCATED', `stream ended inside a frame (${bufferedBytes} bytes buffered)`)
  }
}

export class InvalidUtf8Error extends CodecError {
  constructor() {
    super('INVALID_UTF8', 'frame body is not valid UTF-8')
  }
}

export class InvalidJsonError extends CodecError {
  constructor(cause: unknown) {
    super('INVALID_JSON', `frame body is not JSON: ${(cause as Error)?.message ?? cause}`, {
      cause,
    })
  }
}

/** Arrays and objects nest deeper than the limit; found before parsing (section 3). */
export class NestingTooDeepError extends CodecError {
  constructor(readonly maxDepth: number) {
    super('NESTING_TOO_DEEP', `body nests arrays and objects deeper than ${maxDepth} levels`)
  }
}

export class NotAnObjectError extends CodecError {
  constructor(readonly received: string) {
    super('NOT_AN_OBJECT', `message body is a JSON ${received}, not an object`)
  }
}

export class UnknownCodeError extends CodecError {
  constructor(readonly received: unknown) {
    super(
      'UNKNOWN_CODE',
      received === undefined
        ? 'message has no "code" member'
        : `unknown message code ${JSON.stringify(received)?.slice(0, 80)}`,
    )
  }
}

/** `data` does not match the schema of its `code`; `path` names the offending member. */
export class InvalidDataError extends CodecError {
  constructor(
    readonly messageCode: string,
    readonly path: string,
    readonly problem: string,
  ) {
    super('INVALID_DATA', `${messageCode}: invalid ${path}: ${problem}`)
  }
}

export class NotCanonicalizableError extends CodecError {
  constructor(reason: string) {
    super('NOT_CANONICALIZABLE', `value has no JCS form: ${reason}`)
  }
}

export class InvalidGenesisError extends CodecError {
  constructor(reason: string) {
    super('INVALID_GENESIS', `invalid genesis block: ${reason}`)
  }
}

export function isCodecError(error: unknown): error is CodecError {
  return error instanceof CodecError
}
