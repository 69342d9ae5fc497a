/**
 * Values taken from the protocol vectors (a verbatim copy of
 * ../shared/protocol/vectors.json in the codec's fixtures; never edited):
 * seed inputs for the byte-level targets and a pool of message data for the
 * session targets.
 */
import raw from '../../../packages/codec/test/fixtures/vectors.json' with { type: 'json' }

interface Envelope {
  code: string
  data: unknown
}
interface BlockLike {
  block_header?: { hash?: unknown; height?: unknown }
}
/** The parts of vectors.json read here (1.1 sections optional, so 1.0 files work too). */
interface Vectors {
  genesis: { block: BlockLike & { block_header: { hash: string } } }
  chain: BlockLike[]
  malformed_blocks: { block: BlockLike }[]
  not_valid_on_parent: { block: BlockLike }[]
  valid_on_parent: { block: BlockLike }[]
  frames_ok: { message: Envelope; frame_hex: string }[]
  frames_bad: { frame_hex: string }[]
  frame_zero_length: { frame_hex: string }
  frame_too_large: { header_hex: string }
  stream: { hex: string; messages?: Envelope[] }
  identity?: { messages?: { message: Envelope }[] }
  permissioned?: {
    genesis?: unknown
    chain?: BlockLike[]
    candidates?: ({ block?: BlockLike } & BlockLike)[]
  }
  peer_exchange?: {
    frames_ok?: { message: Envelope; frame_hex: string }[]
    frames_bad?: { frame_hex: string }[]
  }
  limits?: Record<string, { frame_hex?: string } | unknown>
}

const vectors = raw as unknown as Vectors
const fromHex = (h: string) => Buffer.from(h, 'hex')

/** Every frame the vectors spell out, good and bad, as raw bytes. */
export function seedFrames(): Uint8Array[] {
  const frames: string[] = [
    ...vectors.frames_ok.map((f) => f.frame_hex),
    ...vectors.frames_bad.map((f) => f.frame_hex),
    vectors.frame_zero_length.frame_hex,
    vectors.frame_too_large.header_hex,
    vectors.stream.hex,
    ...(vectors.peer_exchange?.frames_ok ?? []).map((f) => f.frame_hex),
    ...(vectors.peer_exchange?.frames_bad ?? []).map((f) => f.frame_hex),
  ]
  for (const entry of Object.values(vectors.limits ?? {})) {
    const hex = (entry as { frame_hex?: unknown } | null)?.frame_hex
    if (typeof hex === 'string') frames.push(hex)
  }
  return frames.filter((h) => typeof h === 'string').map(fromHex)
}

/** Every message body the vectors hold (frame bodies, identity messages, blocks as messages). */
export function seedBodies(): Uint8Array[] {
  const bodies = seedFrames()
    .filter((f) => f.length > 4 && f.length === 4 + Buffer.from(f).readUInt32BE(0))
    .map((f) => f.subarray(4))
  const messages: Envelope[] = [
    ...(vectors.identity?.messages ?? []).map((m) => m.message),
    ...vectors.chain.map((block) => ({ code: 'NEW_BLOCK', data: block })),
    ...vectors.malformed_blocks.map((m) => ({ code: 'NEW_BLOCK', data: m.block })),
    ...(vectors.permissioned?.chain ?? []).map((block) => ({ code: 'PUSH_BLOCK', data: block })),
    ...(vectors.permissioned?.candidates ?? []).map((c) => ({
      code: 'NEW_BLOCK',
      data: c.block ?? c,
    })),
  ]
  return [...bodies, ...messages.map((m) => Buffer.from(JSON.stringify(m)))]
}

export const genesisHash: string = vectors.genesis.block.block_header.hash

/** The open network's genesis block, and (1.1) the permissioned one's when present. */
export const genesisBlocks = (): unknown[] => [
  vectors.genesis.block,
  ...(vectors.permissioned?.genesis ? [vectors.permissioned.genesis] : []),
]

/** Blocks: the genesis, the chain, malformed and parent-invalid ones, sealed ones. */
export function blockPool(): unknown[] {
  return [
    vectors.genesis.block,
    ...vectors.chain,
    ...vectors.malformed_blocks.map((m) => m.block),
    ...vectors.not_valid_on_parent.map((m) => m.block),
    ...vectors.valid_on_parent.map((m) => m.block),
    ...(vectors.permissioned?.chain ?? []),
  ]
}

/** The `data` of every message in the vectors, by code. */
export function dataPool(): Map<string, unknown[]> {
  const pool = new Map<string, unknown[]>()
  const add = (m: Envelope | undefined) => {
    if (!m || typeof m.code !== 'string') return
    const list = pool.get(m.code) ?? []
    list.push(m.data)
    pool.set(m.code, list)
  }
  for (const f of vectors.frames_ok) add(f.message)
  for (const f of vectors.peer_exchange?.frames_ok ?? []) add(f.message)
  for (const m of vectors.identity?.messages ?? []) add(m.message)
  for (const m of vectors.stream.messages ?? []) add(m)
  return pool
}

export function hashPool(): string[] {
  return blockPool()
    .map((b) => (b as BlockLike)?.block_header?.hash)
    .filter((h): h is string => typeof h === 'string')
}
