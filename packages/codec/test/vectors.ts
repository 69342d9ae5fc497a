// Typed access to the verbatim copy of ../shared/protocol/vectors.json.
import { readFileSync } from 'node:fs'
import { type Block, type Message, MessageDecoder, type Transaction } from '../src/index.js'

export const VECTORS_PATH = new URL('./fixtures/vectors.json', import.meta.url)

export interface Vectors {
  about: string
  jcs: { value: unknown; canonical: string }[]
  transaction_ids: { transaction: Transaction; id: string }[]
  tx_roots: { transactions: Transaction[]; tx_root: string }[]
  genesis: { network: string; round_ms: number; block: Block }
  chain: Block[]
  malformed_blocks: { why: string; block: unknown }[]
  parent: Block
  not_valid_on_parent: { why: string; block: Block }[]
  valid_on_parent: { why: string; block: Block }[]
  rounds: { timestamp: number; round: number }[]
  frames_ok: { message: Message & Record<string, unknown>; frame_hex: string }[]
  frames_bad: { why: string; frame_hex: string }[]
  frame_too_large: { max_body_bytes: number; header_hex: string; why: string }
  frame_zero_length: { frame_hex: string; why: string }
  stream: { hex: string; messages: Message[]; split_at: number[]; why: string }
  priority: { a: string; b: string; winner: string }[]
  chain_order: { a: string[]; b: string[]; a_better: boolean }[]
  fanout: { peers_without_block: number; full_block_to: number; hash_to: number }[]
}

export const vectorsText = readFileSync(VECTORS_PATH, 'utf8')
export const vectors = JSON.parse(vectorsText) as Vectors

export const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))

/** Decodes a byte stream fed in pieces cut at `cuts`, then checks it ended on a frame boundary. */
export function decodeAll(bytes: Uint8Array, cuts: number[] = []): Message[] {
  const out: Message[] = []
  const decoder = new MessageDecoder()
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    decoder.push(bytes.subarray(from, cut), (m) => out.push(m))
    from = cut
  }
  decoder.end()
  return out
}
