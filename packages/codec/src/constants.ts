/** Wire protocol version these packages implement (PROTOCOL.md, version 1). */
export const PROTOCOL_VERSION = 1

/** The seven message codes, exactly as they travel on the wire. */
export const MESSAGE_CODES = [
  'SHAKEHAND',
  'PULL_BLOCK',
  'PUSH_BLOCK',
  'NEW_BLOCK',
  'NEW_BLOCK_HASH',
  'GET_BLOCK',
  'BLOCK_KNOWN',
] as const

export type MessageCode = (typeof MESSAGE_CODES)[number]

/** Bytes of the big-endian uint32 length prefix of a TCP frame. */
export const FRAME_HEADER_BYTES = 4

/** Default cap on a frame body: 8 MiB. Bodies up to it must be accepted. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024

/** Largest length a uint32 prefix can declare. */
export const MAX_DECLARABLE_BODY_BYTES = 0xffff_ffff

/** A *uint* is an integer in [0, 2^53 - 1]. */
export const MAX_UINT = Number.MAX_SAFE_INTEGER

/** Addresses and producer names are 1..255 characters. */
export const MAX_NAME_CHARS = 255

/** A block is timely when at most this far ahead of the receiver's clock. */
export const MAX_CLOCK_AHEAD_MS = 15_000

/** The smallest round length a genesis may declare. */
export const MIN_ROUND_MS = 100

/** `prev_hash` of the genesis block. */
export const ZERO_HASH = '0'.repeat(64)

/** The `type` of the parameters transaction inside a genesis block. */
export const NETWORK_PARAMS_TYPE = 'chronos/params'
