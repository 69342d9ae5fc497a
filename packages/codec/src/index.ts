/**
 * `@chronos/codec`: the Chronos wire format and the protocol's pure rules.
 * Framing, message schemas, canonical hashing, block validity, rounds,
 * priority, chain order and fan-out. No I/O.
 */
export {
  type BlockFields,
  checkValidOnParent,
  checkWellFormed,
  createBlock,
  isTimely,
  type MalformedReason,
  type ParentCheck,
  type ParentMismatch,
  verifyBlockHashes,
  type WellFormedCheck,
} from './block.js'
export {
  encodeFrame,
  FrameDecoder,
  type FrameLimits,
  frameBody,
  MessageDecoder,
} from './framing.js'
export {
  createGenesis,
  type GenesisOptions,
  type NetworkParams,
  networkParamsSchema,
  readNetworkParams,
} from './genesis.js'
export {
  computeHeaderHash,
  computeTxRoot,
  sha256,
  sha256Hex,
  transactionId,
} from './hashing.js'
export { canonicalize } from './jcs.js'
export { type Logger, silentLogger } from './logger.js'
export {
  compareChains,
  comparePriority,
  type Fanout,
  fanout,
  higherPriority,
  isBetterChain,
} from './order.js'
export { type RoundClock, roundEnd, roundOf, roundStart } from './rounds.js'
export * from './schemas.js'
