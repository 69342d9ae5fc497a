/**
 * `@chronos/codec/schemas`: the browser-safe part of the codec. Schemas,
 * types, constants, errors, message encode/decode and framing; no Node
 * built-ins, so it bundles for a web page.
 */
export { formatAddress, type HostPort, parseAddress } from './address.js'
export * from './constants.js'
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
  type Message,
  type MessageOf,
  messageSchema,
  type Status,
  statusSchema,
  type Transaction,
  transactionSchema,
  type Uint,
  uintSchema,
} from './schema.js'
