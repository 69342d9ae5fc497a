/**
 * Zod schemas of the envelope and of every message's `data` (PROTOCOL.md
 * sections 3-5). The types inferred here are the package's public types.
 * Nothing in this module touches Node built-ins: it bundles for browsers.
 */
import * as z from 'zod'
import { parseAddress } from './address.js'
import {
  MAX_FEATURE_CHARS,
  MAX_FEATURES,
  MAX_NAME_CHARS,
  MAX_PEER_ENTRIES,
  MAX_UINT,
  type MessageCode,
} from './constants.js'

/** Length in Unicode code points; the spec's "characters". */
function charCount(value: string, cap = MAX_NAME_CHARS): number {
  // A UTF-16 length within the cap needs no closer look: code points <= units.
  if (value.length <= cap) return value.length
  let count = 0
  for (const _ of value) count++
  return count
}

/** Addresses and producer names: 1..255 characters. */
export const nameLength = (value: string) => {
  const n = charCount(value)
  return n >= 1 && n <= MAX_NAME_CHARS
}

/** An integer in [0, 2^53 - 1]; `1.0` parses to 1 and is accepted, `1.5`, `-1`, `"1"`, `1e300` are not. */
export const uintSchema = z.number().int().min(0).max(MAX_UINT)

/** A hash or key as text: exactly 64 lowercase hexadecimal characters. */
export const LOWER_HEX_64 = /^[0-9a-f]{64}$/

/** Exactly 64 lowercase hexadecimal characters. */
export const hashSchema = z.string().regex(LOWER_HEX_64, 'expected 64 lowercase hex characters')

/** `host:port`, IPv6 hosts in brackets, 1..255 characters, port 0..65535. */
export const addressSchema = z
  .string()
  .refine(nameLength, `expected 1..${MAX_NAME_CHARS} characters`)
  .refine(
    (value) => parseAddress(value) !== undefined,
    'expected host:port (IPv6 hosts in brackets)',
  )

/** (1.1) An Ed25519 public key: 64 lowercase hexadecimal characters. */
export const keySchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')

/** (1.1) An Ed25519 signature: 128 lowercase hexadecimal characters. */
export const sigSchema = z
  .string()
  .regex(/^[0-9a-f]{128}$/, 'expected 128 lowercase hex characters')

/** (1.1) A feature name: 1..32 characters. */
const featureSchema = z.string().refine((value) => {
  const n = charCount(value, MAX_FEATURE_CHARS)
  return n >= 1 && n <= MAX_FEATURE_CHARS
}, `expected 1..${MAX_FEATURE_CHARS} characters`)

/** A node's status: sent by the Client as SHAKEHAND and answered in kind. Unknown members are dropped. */
export const statusSchema = z.object({
  timestamp: uintSchema,
  height: uintSchema,
  address: addressSchema,
  head: hashSchema.optional(),
  genesis: hashSchema.optional(),
  /** (1.1) Section 11: the sender's node key, its fresh nonce for this connection, its proof. */
  key: keySchema.optional(),
  nonce: hashSchema.optional(),
  proof: sigSchema.optional(),
  /** (1.1) Section 13: what the sender serves beyond 1.0, e.g. `peers`. */
  features: z.array(featureSchema).max(MAX_FEATURES).optional(),
})

/** The six header members, no others. */
export const blockHeaderSchema = z.strictObject({
  height: uintSchema,
  prev_hash: hashSchema,
  timestamp: uintSchema,
  tx_root: hashSchema,
  producer: z.string().refine(nameLength, `expected 1..${MAX_NAME_CHARS} characters`),
  hash: hashSchema,
})

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue }

/** A transaction is any JSON object; the protocol does not interpret it. */
export type Transaction = { [key: string]: JsonValue }

export function isJsonObject(value: unknown): value is Transaction {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Transactions are checked for being objects but kept as received (not
 * copied): their ids are hashes over their exact contents.
 */
export const transactionSchema = z.custom<Transaction>(isJsonObject, 'expected a JSON object')

/**
 * The transaction list, checked in one pass: a block can carry thousands,
 * and a per-element schema costs more than the check itself.
 */
export const transactionsSchema = z.custom<Transaction[]>().superRefine((value, ctx) => {
  if (!Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'expected an array of JSON objects' })
    return
  }
  for (let i = 0; i < value.length; i++) {
    if (!isJsonObject(value[i])) {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON object', path: [i] })
      return
    }
  }
})

/**
 * A block. `seal` (1.1, section 12) is kept as received: a permissioned
 * network requires it to be a valid sig (checked by `verifyBlock`, which
 * knows the network), an open one ignores it.
 */
export const blockSchema = z.object({
  block_header: blockHeaderSchema,
  transactions: transactionsSchema,
  seal: z.custom<JsonValue>((value) => value !== undefined).optional(),
})

/** (1.1) One PEERS entry; unknown members are dropped. */
export const peerEntrySchema = z.object({
  address: addressSchema,
  key: keySchema.optional(),
})

export type Uint = z.infer<typeof uintSchema>
export type Hash = z.infer<typeof hashSchema>
export type Address = z.infer<typeof addressSchema>
export type Status = z.infer<typeof statusSchema>
export type BlockHeader = z.infer<typeof blockHeaderSchema>
export type Block = z.infer<typeof blockSchema>
export type Key = z.infer<typeof keySchema>
export type Sig = z.infer<typeof sigSchema>
export type PeerEntry = z.infer<typeof peerEntrySchema>

/** The schema of `data` for each code. */
export const dataSchemas = {
  SHAKEHAND: statusSchema,
  PULL_BLOCK: uintSchema,
  PUSH_BLOCK: blockSchema.nullable(),
  NEW_BLOCK: blockSchema,
  NEW_BLOCK_HASH: hashSchema,
  GET_BLOCK: hashSchema,
  BLOCK_KNOWN: hashSchema,
  GET_PEERS: z.null(),
  PEERS: z.array(peerEntrySchema).max(MAX_PEER_ENTRIES),
} as const satisfies Record<MessageCode, z.ZodType>

type DataSchemas = typeof dataSchemas

/** A decoded message: a discriminated union on `code`. */
export type Message = {
  [C in MessageCode]: { code: C; data: z.infer<DataSchemas[C]> }
}[MessageCode]

/** The message of one code, e.g. `MessageOf<'NEW_BLOCK'>`. */
export type MessageOf<C extends MessageCode> = Extract<Message, { code: C }>

/** The whole envelope as one schema, for consumers that want a single `safeParse`. */
export const messageSchema = z.discriminatedUnion('code', [
  z.object({ code: z.literal('SHAKEHAND'), data: dataSchemas.SHAKEHAND }),
  z.object({ code: z.literal('PULL_BLOCK'), data: dataSchemas.PULL_BLOCK }),
  z.object({ code: z.literal('PUSH_BLOCK'), data: dataSchemas.PUSH_BLOCK }),
  z.object({ code: z.literal('NEW_BLOCK'), data: dataSchemas.NEW_BLOCK }),
  z.object({ code: z.literal('NEW_BLOCK_HASH'), data: dataSchemas.NEW_BLOCK_HASH }),
  z.object({ code: z.literal('GET_BLOCK'), data: dataSchemas.GET_BLOCK }),
  z.object({ code: z.literal('BLOCK_KNOWN'), data: dataSchemas.BLOCK_KNOWN }),
  z.object({ code: z.literal('GET_PEERS'), data: dataSchemas.GET_PEERS }),
  z.object({ code: z.literal('PEERS'), data: dataSchemas.PEERS }),
])
