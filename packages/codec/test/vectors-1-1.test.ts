// Reproduces every entry the 1.1 vectors add: identity, permissioned, peer_exchange, limits.
import { describe, expect, it } from 'vitest'
import {
  type Block,
  type BlockHeader,
  blockEnvelopeBytes,
  CodecError,
  canonicalize,
  checkValidOnParent,
  checkWellFormed,
  compareBlocks,
  compareForks,
  createGenesis,
  decodeMessage,
  encodeFrame,
  handshakeTranscript,
  inTurnProducer,
  isInTurn,
  MAX_NESTING_DEPTH,
  maxPossibleHeight,
  type NetworkParams,
  nodeKeyFromSeed,
  readNetworkParams,
  sealBlock,
  sealMessage,
  sha256Hex,
  statusSchema,
  verifyBlock,
  verifySignature,
} from '../src/index.js'
import { decodeAll, hex, vectors as v10 } from './vectors.js'

interface Vectors11 {
  identity: {
    genesis: string
    client: { seed_text: string; key: string; nonce: string; address: string }
    server: { seed_text: string; key: string; nonce: string; address: string }
    messages: { step: number; message: { code: 'SHAKEHAND'; data: Record<string, unknown> } }[]
    transcript_server: string
    transcript_client: string
    proof_server: string
    proof_client: string
    bad_proofs: { why: string; role: 'server' | 'client'; proof: string }[]
    bad_status_members: { why: string; data: unknown }[]
  }
  permissioned: {
    producer_seed_texts: string[]
    producers: string[]
    genesis: Block
    chain: Block[]
    seal_messages: { hash: string; message: string; seal: string }[]
    in_turn: { round: number; producer: string }[]
    parent: Block
    candidates: Block[]
    priority: { a: string; b: string; winner: string; a_in_turn: boolean; b_in_turn: boolean }[]
    chain_order: { a: string[]; b: string[]; a_better: boolean; why: string }[]
    malformed_blocks: { why: string; block: unknown }[]
    open_network_block_with_seal: { why: string; block: Block }
  }
  peer_exchange: {
    frames_ok: { message: { code: string; data: unknown }; frame_hex: string }[]
    frames_bad: { why: string; frame_hex: string }[]
  }
  limits: {
    max_depth: number
    depth_64_ok: { message: { code: string; data: unknown }; frame_hex: string }
    depth_65_bad: { frame_hex: string; why: string }
    status_height: {
      genesis_timestamp: number
      round_ms: number
      cases: { received_at: number; height: number; lie: boolean }[]
    }
    jcs_growth: { wire: string; canonical: string }
  }
}

const vectors = v10 as unknown as Vectors11
const seedOf = (text: string) => sha256Hex(text)

describe('identity (section 11)', () => {
  const id = vectors.identity
  const client = nodeKeyFromSeed(seedOf(id.client.seed_text))
  const server = nodeKeyFromSeed(seedOf(id.server.seed_text))
  const fields = {
    genesis: id.genesis,
    clientKey: id.client.key,
    clientNonce: id.client.nonce,
    clientAddress: id.client.address,
    serverKey: id.server.key,
    serverNonce: id.server.nonce,
    serverAddress: id.server.address,
  }

  it('rebuilds both keys from their seed texts', () => {
    expect(client.publicKey).toBe(id.client.key)
    expect(server.publicKey).toBe(id.server.key)
  })

  it('writes both transcripts exactly', () => {
    expect(handshakeTranscript('server', fields)).toBe(id.transcript_server)
    expect(handshakeTranscript('client', fields)).toBe(id.transcript_client)
  })

  it('signs both proofs exactly, and each verifies', () => {
    expect(server.sign(id.transcript_server)).toBe(id.proof_server)
    expect(client.sign(id.transcript_client)).toBe(id.proof_client)
    expect(verifySignature(id.server.key, id.transcript_server, id.proof_server)).toBe(true)
    expect(verifySignature(id.client.key, id.transcript_client, id.proof_client)).toBe(true)
  })

  it('the three handshake messages carry those values and decode as Status', () => {
    const [one, two, three] = id.messages
    expect(one!.message.data).toMatchObject({ key: id.client.key, nonce: id.client.nonce })
    expect(two!.message.data).toMatchObject({
      key: id.server.key,
      nonce: id.server.nonce,
      proof: id.proof_server,
    })
    expect(three!.message.data).toMatchObject({ key: id.client.key, proof: id.proof_client })
    for (const { message } of id.messages) {
      const decoded = decodeMessage(JSON.stringify(message))
      expect(decoded).toEqual(message)
    }
  })

  it.each(id.bad_proofs.map((b) => [b.why, b] as const))('bad proof refused: %s', (_, bad) => {
    const transcript = bad.role === 'server' ? id.transcript_server : id.transcript_client
    const key = bad.role === 'server' ? id.server.key : id.client.key
    expect(verifySignature(key, transcript, bad.proof)).toBe(false)
  })

  it.each(id.bad_status_members.map((b) => [b.why, b] as const))(
    'bad Status member is INVALID_DATA: %s',
    (_, bad) => {
      expect(statusSchema.safeParse(bad.data).success).toBe(false)
      let error: unknown
      try {
        decodeMessage(JSON.stringify({ code: 'SHAKEHAND', data: bad.data }))
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(CodecError)
      expect((error as CodecError).code).toBe('INVALID_DATA')
    },
  )
})

describe('permissioned (section 12)', () => {
  const p = vectors.permissioned
  const network: NetworkParams = readNetworkParams(p.genesis)
  const keys = p.producer_seed_texts.map((text) => nodeKeyFromSeed(seedOf(text)))
  const byHash = new Map<string, BlockHeader>(
    [...p.chain, p.parent, ...p.candidates].map((b) => [b.block_header.hash, b.block_header]),
  )

  it('rebuilds the producer keys and the genesis, and reads its producers in order', () => {
    expect(keys.map((k) => k.publicKey)).toEqual(p.producers)
    const params = p.genesis.transactions[0] as { network: string; round_ms: number }
    const built = createGenesis({
      network: params.network,
      roundMs: params.round_ms,
      timestamp: p.genesis.block_header.timestamp,
      producers: p.producers,
    })
    expect(built).toEqual(p.genesis)
    expect(network.producers).toEqual(p.producers)
  })

  it('every chain block is well-formed with its seal and valid on its parent', () => {
    for (const [i, block] of p.chain.entries()) {
      expect(verifyBlock(block, { network }), `height ${i}`).toEqual({ ok: true, block })
      expect(checkWellFormed(block, { network }).ok).toBe(true)
      if (i > 0) expect(checkValidOnParent(block, p.chain[i - 1]!, network)).toEqual({ ok: true })
    }
  })

  it('writes and signs every seal message exactly', () => {
    for (const entry of p.seal_messages) {
      expect(sealMessage(network.genesisHash, entry.hash)).toBe(entry.message)
      const block = [...p.chain, p.parent, ...p.candidates].find(
        (b) => b.block_header.hash === entry.hash,
      )!
      const key = keys[p.producers.indexOf(block.block_header.producer)]!
      expect(sealBlock(block, key, network.genesisHash).seal).toBe(entry.seal)
    }
  })

  it('names the in-turn producer of every round', () => {
    for (const { round, producer } of p.in_turn)
      expect(inTurnProducer(round, network), `round ${round}`).toBe(producer)
  })

  it('the candidates are well-formed and valid on the parent', () => {
    for (const block of p.candidates) {
      expect(verifyBlock(block, { network }).ok).toBe(true)
      expect(checkValidOnParent(block, p.parent, network)).toEqual({ ok: true })
    }
  })

  it.each(p.priority.map((e, i) => [i, e] as const))('priority %i', (_, e) => {
    const a = byHash.get(e.a)!
    const b = byHash.get(e.b)!
    expect(isInTurn(a, network)).toBe(e.a_in_turn)
    expect(isInTurn(b, network)).toBe(e.b_in_turn)
    const winner = compareBlocks(a, b, network) < 0 ? e.a : e.b
    expect(winner).toBe(e.winner)
    expect(compareBlocks(b, a, network) < 0 ? e.b : e.a).toBe(e.winner)
  })

  it.each(p.chain_order.map((e) => [e.why, e] as const))('chain order: %s', (_, e) => {
    // Both chains start at genesis; fork choice compares what follows it.
    const a = e.a.slice(1).map((h) => byHash.get(h)!)
    const b = e.b.slice(1).map((h) => byHash.get(h)!)
    expect(compareForks(a, b, network) < 0).toBe(e.a_better)
  })

  it.each(p.malformed_blocks.map((e) => [e.why, e] as const))('malformed: %s', (_, e) => {
    const check = checkWellFormed(e.block, { network })
    expect(check.ok).toBe(false)
    if (!check.ok) expect(['SEAL_MISSING', 'BAD_SEAL', 'UNLISTED_PRODUCER']).toContain(check.reason)
  })

  it('a sealed block is accepted in an open network, its seal ignored', () => {
    const { block } = p.open_network_block_with_seal
    const open = readNetworkParams(v10.genesis.block)
    const check = checkWellFormed(block, { network: open })
    expect(check.ok).toBe(true)
    if (check.ok) expect(check.block.seal).toBeUndefined()
  })
})

describe('peer exchange (section 13)', () => {
  const pe = vectors.peer_exchange

  it.each(pe.frames_ok.map((e, i) => [i, e] as const))('frame %i decodes', (_, e) => {
    const [message] = decodeAll(hex(e.frame_hex))
    // Unknown members of an entry are ignored.
    const data = Array.isArray(e.message.data)
      ? (e.message.data as Record<string, unknown>[]).map(({ address, key }) =>
          key === undefined ? { address } : { address, key },
        )
      : e.message.data
    expect(message).toEqual({ code: e.message.code, data })
  })

  it('encodes GET_PEERS and an empty PEERS to the vectors bytes', () => {
    for (const e of pe.frames_ok.slice(0, 2))
      expect(Buffer.from(encodeFrame(e.message as never)).toString('hex')).toBe(e.frame_hex)
  })

  it.each(pe.frames_bad.map((e) => [e.why, e] as const))('protocol error: %s', (_, e) => {
    expect(() => decodeAll(hex(e.frame_hex))).toThrow(CodecError)
  })
})

describe('limits (sections 3, 4, 6)', () => {
  const l = vectors.limits

  it('the depth bound is the spec`s', () => {
    expect(MAX_NESTING_DEPTH).toBe(l.max_depth)
  })

  it('a body nested 64 levels decodes', () => {
    const [message] = decodeAll(hex(l.depth_64_ok.frame_hex))
    expect(message?.code).toBe('SHAKEHAND')
  })

  it('a body nested 65 levels is NESTING_TOO_DEEP', () => {
    let error: unknown
    try {
      decodeAll(hex(l.depth_65_bad.frame_hex))
    } catch (caught) {
      error = caught
    }
    expect((error as CodecError).code).toBe('NESTING_TOO_DEEP')
  })

  it.each(l.status_height.cases.map((c) => [c.height, c.received_at, c] as const))(
    'Status height %i at %i',
    (_, __, c) => {
      const clock = {
        genesisTime: l.status_height.genesis_timestamp,
        roundMs: l.status_height.round_ms,
      }
      expect(c.height > maxPossibleHeight(c.received_at, clock)).toBe(c.lie)
    },
  )

  it('a block is judged by its JCS size, not its wire size', () => {
    const value = JSON.parse(l.jcs_growth.wire)
    expect(canonicalize(value)).toBe(l.jcs_growth.canonical)
  })
})

describe('block size in its envelope (section 6, 1.1)', () => {
  const network = readNetworkParams(v10.genesis.block)
  const block = v10.chain[1]!

  it('blockEnvelopeBytes is the UTF-8 length of the JCS envelope', () => {
    const text = canonicalize({ code: 'NEW_BLOCK', data: block })
    expect(blockEnvelopeBytes(block)).toBe(Buffer.byteLength(text))
  })

  it('a block whose envelope is one byte over the limit is TOO_LARGE; at the limit it is fine', () => {
    const bytes = blockEnvelopeBytes(block)
    expect(verifyBlock(block, { network, maxBodyBytes: bytes }).ok).toBe(true)
    const over = verifyBlock(block, { network, maxBodyBytes: bytes - 1 })
    expect(over.ok ? 'ok' : over.reason).toBe('TOO_LARGE')
  })
})
