/** Wire protocol version these packages implement (PROTOCOL.md). */
export const PROTOCOL_VERSION = '1.1'

/** The seven message codes of 1.0, exactly as they travel on the wire. */
export const MESSAGE_CODES_1_0 = [
  'SHAKEHAND',
  'PULL_BLOCK',
  'PUSH_BLOCK',
  'NEW_BLOCK',
  'NEW_BLOCK_HASH',
  'GET_BLOCK',
  'BLOCK_KNOWN',
] as const

/** Every code: 1.0's seven and peer exchange's two (section 13), sent only to peers that offer it. */
export const MESSAGE_CODES = [...MESSAGE_CODES_1_0, 'GET_PEERS', 'PEERS'] as const

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

/** Arrays and objects may nest this deep in a body, the envelope being level 1 (section 3). */
export const MAX_NESTING_DEPTH = 64

/** Entries in one PEERS answer (section 13). */
export const MAX_PEER_ENTRIES = 64

/** Strings in a Status `features` list, and the length of each (section 13). */
export const MAX_FEATURES = 16
export const MAX_FEATURE_CHARS = 32

/** The feature a node lists when it answers GET_PEERS. */
export const FEATURE_PEERS = 'peers'

/** Authorized producers a permissioned genesis may list (section 12). */
export const MAX_PRODUCERS = 1024
