/**
 * The block schema's accepting half, written out for the two messages that
 * carry blocks (NEW_BLOCK, PUSH_BLOCK): the zod schema in schema.ts costs
 * more than JSON.parse's share of a 1,000-transaction body, most of it in
 * per-value bookkeeping this shape does not need.
 *
 * It answers only "certainly valid": then it returns what
 * `blockSchema.parse` returns (a fresh header in schema order, the same
 * transactions array, the seal as received, unknown members dropped).
 * Anything else returns undefined and the zod schema decides, so every
 * rejection, its path and its wording still come from the one schema; a
 * property test holds the two to the same verdicts and results.
 */
import { MAX_UINT } from './constants.js'
import {
  type Block,
  type BlockHeader,
  isJsonObject,
  LOWER_HEX_64,
  nameLength,
  type Transaction,
} from './schema.js'

const HEADER_NAMES = ['height', 'prev_hash', 'timestamp', 'tx_root', 'producer', 'hash'] as const
const hasOwn = Object.prototype.hasOwnProperty

/** `blockSchema.parse(value)` when `value` is certainly a valid block, else undefined. */
export function acceptBlock(value: unknown): Block | undefined {
  if (!isJsonObject(value)) return undefined
  const header = acceptHeader(value.block_header)
  if (header === undefined) return undefined
  const transactions = value.transactions
  if (!Array.isArray(transactions)) return undefined
  for (let i = 0; i < transactions.length; i++) if (!isJsonObject(transactions[i])) return undefined
  const seal = value.seal
  if (seal !== undefined)
    return { block_header: header, transactions: transactions as Transaction[], seal }
  // A member `seal: undefined` (not from JSON): how zod writes it is its business.
  if (hasOwn.call(value, 'seal')) return undefined
  return { block_header: header, transactions: transactions as Transaction[] }
}

function acceptHeader(value: unknown): BlockHeader | undefined {
  if (!isJsonObject(value)) return undefined
  // Strict: exactly the six members, each an own one.
  if (Object.keys(value).length !== HEADER_NAMES.length) return undefined
  for (const name of HEADER_NAMES) if (!hasOwn.call(value, name)) return undefined
  const { height, prev_hash, timestamp, tx_root, producer, hash } = value
  if (!isUint(height) || !isUint(timestamp)) return undefined
  if (!isHash(prev_hash) || !isHash(tx_root) || !isHash(hash)) return undefined
  if (typeof producer !== 'string' || !nameLength(producer)) return undefined
  return { height, prev_hash, timestamp, tx_root, producer, hash }
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_UINT
}

function isHash(value: unknown): value is string {
  return typeof value === 'string' && LOWER_HEX_64.test(value)
}
