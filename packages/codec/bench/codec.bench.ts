// `pnpm bench` for the codec: our work on one 1,000-transaction block,
// against the bare JSON/SHA-256 work any implementation must at least do.
import { createHash } from 'node:crypto'
import { compare, printTable, writeResults } from '@chronos/bench-kit'
import {
  createBlock,
  createGenesis,
  encodeFrame,
  type Message,
  MessageDecoder,
  verifyBlockHashes,
} from '../src/index.js'

const genesis = createGenesis({ network: 'bench', roundMs: 1000, timestamp: 1_764_547_200_000 })
const transactions = Array.from({ length: 1000 }, (_, i) => ({
  from: `acct-${i}`,
  to: `acct-${(i * 7919) % 1000}`,
  amount: (i * 37) % 10_000,
  nonce: i,
  ...(i % 10 === 0 ? { memo: `payment ${i} ✓` } : {}),
}))
const block = createBlock({
  height: 1,
  prevHash: genesis.block_header.hash,
  timestamp: genesis.block_header.timestamp + 1000,
  producer: '127.0.0.1:7001',
  transactions,
})
const message: Message = { code: 'NEW_BLOCK', data: block }
const frame = encodeFrame(message)
const text = JSON.stringify(message)

const decoder = new MessageDecoder()
let sink: unknown
const decodeFrame = () => decoder.push(frame, (m) => (sink = m))

if (!verifyBlockHashes(block).ok) throw new Error('bench block is not well-formed')

const rows = [
  compare('decode_vs_json_parse', decodeFrame, 'JSON.parse', () => JSON.parse(text), { goal: 1.5 }),
  compare(
    'encode_vs_json_stringify',
    () => encodeFrame(message),
    'JSON.stringify',
    () => JSON.stringify(message),
    {
      goal: 1.2,
    },
  ),
  compare(
    'verify_vs_stringify_sha256',
    () => verifyBlockHashes(block),
    'JSON.stringify + SHA-256',
    () => createHash('sha256').update(JSON.stringify(block)).digest('hex'),
    { goal: 3 },
  ),
]
void sink
printTable(`codec: one NEW_BLOCK of 1,000 transactions (${frame.byteLength} bytes framed)`, rows)
const path = writeResults('codec', rows, {
  frame_bytes: frame.byteLength,
  transactions: transactions.length,
})
console.log(`\nwrote ${path}`)
