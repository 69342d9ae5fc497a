/**
 * `@chronos/codec/schemas`: the browser-safe part of the codec. Schemas,
 * types, constants, errors, message encode/decode and framing; no Node
 * built-ins, so it bundles for a web page.
 */
export { formatAddress, type HostPort, parseAddress } from './address.js'
export * from './constants.js'
export { checkNestingDepth } from './depth.js'
export * from './errors.js'
export { decodeMessage, encodeMessage, messageFromJson } from './message.js'
export {
  type Address,
  addressSchema,
  type Block,
  type BlockHeader,
  blockHeaderSchema,
  blockSchema,
  dataSchemas,
  type Hash,
  hashSchema,
  type JsonValue,
  type Key,
  keySchema,
  type Message,
  type MessageOf,
  messageSchema,
  type PeerEntry,
  peerEntrySchema,
  type Sig,
  type Status,
  sigSchema,
  statusSchema,
  type Transaction,
  transactionSchema,
  type Uint,
  uintSchema,
} from './schema.js'
