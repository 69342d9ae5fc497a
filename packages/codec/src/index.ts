/**
 * `@chronos/codec`: the Chronos wire format and the protocol's pure rules.
 * Framing, message schemas, canonical hashing, block validity, rounds,
 * priority, chain order and fan-out. No I/O.
 */
export {
  type BlockFields,
  type BlockRules,
  blockEnvelopeBytes,
  checkValidOnParent,
  checkWellFormed,
  createBlock,
  isConfirmable,
  isTimely,
  type MalformedReason,
  type ParentCheck,
  type ParentMismatch,
  verifyBlock,
  verifyBlockHashes,
  verifyHeaderHash,
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
export {
  createNonce,
  type GeneratedNodeKey,
  generateNodeKey,
  type HandshakeFields,
  type HandshakeRole,
  handshakeTranscript,
  type NodeKey,
  nodeKeyFromSeed,
  publicKeyCacheEntries,
  sealBlock,
  sealMessage,
  setPublicKeyCacheSize,
  verifySeal,
  verifySignature,
} from './identity.js'
export { canonicalize } from './jcs.js'
export { type Logger, silentLogger } from './logger.js'
export {
  compareBlocks,
  compareChains,
  compareForks,
  comparePriority,
  type Fanout,
  fanout,
  higherPriority,
  inTurnProducer,
  isBetterChain,
  isInTurn,
  type PriorityRules,
} from './order.js'
export { seededRandom } from './random.js'
export {
  isRoundEnded,
  maxPossibleHeight,
  type RoundClock,
  roundEnd,
  roundOf,
  roundStart,
} from './rounds.js'
export * from './schemas.js'
export type { Service } from './service.js'
