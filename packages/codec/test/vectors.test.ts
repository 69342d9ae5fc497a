// Reproduces every entry of the shared protocol test vectors.
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  CodecError,
  canonicalize,
  checkValidOnParent,
  checkWellFormed,
  computeTxRoot,
  createGenesis,
  decodeMessage,
  EmptyFrameError,
  encodeFrame,
  FrameDecoder,
  FrameTooLargeError,
  fanout,
  higherPriority,
  isBetterChain,
  type Message,
  messageFromJson,
  readNetworkParams,
  roundOf,
  transactionId,
  verifyBlockHashes,
} from '../src/index.js'
import { decodeAll, hex, vectors, vectorsText } from './vectors.js'

const SHARED_VECTORS = new URL('../../../../shared/protocol/vectors.json', import.meta.url)

const STATUS_MEMBERS = ['timestamp', 'height', 'address', 'head', 'genesis']

/**
 * What a receiver keeps of a message: `code` and `data`; other envelope
 * members, and Status members the spec does not define, are ignored.
 */
function kept(message: Message & Record<string, unknown>): Message {
  if (message.code !== 'SHAKEHAND') return { code: message.code, data: message.data } as Message
  const data = Object.fromEntries(
    Object.entries(message.data).filter(([key]) => STATUS_MEMBERS.includes(key)),
  )
  return { code: message.code, data } as Message
}

const clock = {
  genesisTime: vectors.genesis.block.block_header.timestamp,
  roundMs: vectors.genesis.round_ms,
}

describe('fixture', () => {
  it('holds every section of the vectors', () => {
    for (const key of [
      'jcs',
      'transaction_ids',
      'tx_roots',
      'genesis',
      'chain',
      'malformed_blocks',
      'parent',
      'not_valid_on_parent',
      'valid_on_parent',
      'rounds',
      'frames_ok',
      'frames_bad',
      'frame_too_large',
      'frame_zero_length',
      'stream',
      'priority',
      'chain_order',
      'fanout',
    ]) {
      expect(vectors, key).toHaveProperty(key)
    }
  })

  it('is a byte-for-byte copy of ../shared/protocol/vectors.json when that is present', () => {
    // CI runs with ../shared beside the clone; a stale copy must fail there
    // (refresh it with `pnpm vectors:sync`, never by hand).
    if (existsSync(SHARED_VECTORS)) expect(vectorsText).toBe(readFileSync(SHARED_VECTORS, 'utf8'))
    else expect(vectorsText.length).toBeGreaterThan(0)
  })
})

describe('jcs', () => {
  it.each(vectors.jcs.map((v, i) => [i, v] as const))('entry %i', (_, { value, canonical }) => {
    expect(canonicalize(value)).toBe(canonical)
  })
})

describe('transaction ids', () => {
  it.each(vectors.transaction_ids.map((v, i) => [i, v] as const))('entry %i', (_, v) => {
    expect(transactionId(v.transaction)).toBe(v.id)
  })
})

describe('tx_root', () => {
  it.each(vectors.tx_roots.map((v) => [v.transactions.length, v] as const))(
    '%i transactions',
    (_, v) => {
      expect(computeTxRoot(v.transactions)).toBe(v.tx_root)
    },
  )
})

describe('genesis', () => {
  const { network, round_ms, block } = vectors.genesis

  it('is rebuilt exactly from its parameters', () => {
    const built = createGenesis({
      network,
      roundMs: round_ms,
      timestamp: block.block_header.timestamp,
    })
    expect(built).toEqual(block)
  })

  it('yields its network parameters', () => {
    expect(readNetworkParams(block)).toEqual({
      network,
      roundMs: round_ms,
      genesisTime: block.block_header.timestamp,
      genesisHash: block.block_header.hash,
    })
  })
})

describe('chain', () => {
  it('starts at the genesis and every block is well-formed and valid on its parent', () => {
    expect(vectors.chain[0]).toEqual(vectors.genesis.block)
    for (const [i, block] of vectors.chain.entries()) {
      expect(checkWellFormed(block), `height ${i}`).toEqual({ ok: true, block })
      if (i > 0)
        expect(checkValidOnParent(block, vectors.chain[i - 1]!, clock)).toEqual({ ok: true })
    }
  })
})

describe('malformed blocks', () => {
  it.each(vectors.malformed_blocks.map((v) => [v.why, v] as const))('%s', (_, v) => {
    const check = checkWellFormed(v.block)
    expect(check.ok).toBe(false)
    // On the wire the same block is a protocol error: either its NEW_BLOCK
    // does not decode, or the decoded block fails its hash checks.
    let wireRejected: boolean
    try {
      const message = messageFromJson({ code: 'NEW_BLOCK', data: v.block })
      wireRejected = message.code === 'NEW_BLOCK' && !verifyBlockHashes(message.data).ok
    } catch (error) {
      expect(error).toBeInstanceOf(CodecError)
      expect((error as CodecError).code).toBe('INVALID_DATA')
      wireRejected = true
    }
    expect(wireRejected).toBe(true)
  })
})

describe('validity on parent', () => {
  it.each(vectors.not_valid_on_parent.map((v) => [v.why, v] as const))('rejects: %s', (_, v) => {
    expect(checkWellFormed(v.block).ok).toBe(true)
    expect(checkValidOnParent(v.block, vectors.parent, clock).ok).toBe(false)
  })

  it.each(vectors.valid_on_parent.map((v) => [v.why, v] as const))('accepts: %s', (_, v) => {
    expect(checkWellFormed(v.block).ok).toBe(true)
    expect(checkValidOnParent(v.block, vectors.parent, clock)).toEqual({ ok: true })
  })
})

describe('rounds', () => {
  it.each(vectors.rounds.map((v) => [v.timestamp, v.round] as const))('%i is round %i', (t, r) => {
    expect(roundOf(t, clock)).toBe(r)
  })
})

describe('frames', () => {
  it.each(vectors.frames_ok.map((v, i) => [i, v.message.code, v] as const))(
    'ok %i (%s) decodes, and re-encodes to a frame that decodes the same',
    (_, __, v) => {
      const [decoded] = decodeAll(hex(v.frame_hex))
      expect(decoded).toEqual(kept(v.message))
      const reencoded = encodeFrame(decoded!)
      expect(decodeAll(reencoded)).toEqual([kept(v.message)])
      // Where the vector's body is already our serialisation, the bytes match too.
      const body = Buffer.from(v.frame_hex, 'hex').subarray(4).toString('utf8')
      if (body === JSON.stringify(kept(v.message)))
        expect(Buffer.from(reencoded).toString('hex')).toBe(v.frame_hex)
    },
  )

  // The vectors say why each frame is bad; the typed error names that reason.
  const expectedCode: Record<string, string> = {
    'not JSON': 'INVALID_JSON',
    'JSON array, not object': 'NOT_AN_OBJECT',
    'unknown code': 'UNKNOWN_CODE',
    'lowercase code': 'UNKNOWN_CODE',
    'missing code': 'UNKNOWN_CODE',
    'PULL_BLOCK height fractional': 'INVALID_DATA',
    'PULL_BLOCK height negative': 'INVALID_DATA',
    'PULL_BLOCK height string': 'INVALID_DATA',
    'PULL_BLOCK height huge': 'INVALID_DATA',
    'NEW_BLOCK_HASH not hex': 'INVALID_DATA',
    'NEW_BLOCK_HASH uppercase': 'INVALID_DATA',
    'SHAKEHAND missing address': 'INVALID_DATA',
    'SHAKEHAND height negative': 'INVALID_DATA',
    'not UTF-8': 'INVALID_UTF8',
  }

  it('names an expected error for every bad frame in the vectors', () => {
    expect(Object.keys(expectedCode).sort()).toEqual(vectors.frames_bad.map((v) => v.why).sort())
  })

  it.each(vectors.frames_bad.map((v) => [v.why, v] as const))('bad: %s', (why, v) => {
    let thrown: unknown
    try {
      decodeAll(hex(v.frame_hex))
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(CodecError)
    expect((thrown as CodecError).code).toBe(expectedCode[why])
  })

  it('rejects a declared length over the limit before reading the body', () => {
    const { header_hex, max_body_bytes } = vectors.frame_too_large
    const decoder = new FrameDecoder({ maxBodyBytes: max_body_bytes })
    expect(() => decoder.push(hex(header_hex), () => {})).toThrow(FrameTooLargeError)
    expect(decoder.bufferedBytes).toBe(0)
  })

  it('rejects a zero length', () => {
    expect(() =>
      new FrameDecoder().push(hex(vectors.frame_zero_length.frame_hex), () => {}),
    ).toThrow(EmptyFrameError)
  })
})

describe('stream', () => {
  const bytes = hex(vectors.stream.hex)
  const { messages } = vectors.stream

  it('decodes whole', () => {
    expect(decodeAll(bytes)).toEqual(messages.map((m) => decodeMessage(JSON.stringify(m))))
  })

  it('decodes the same cut at the listed offsets', () => {
    const whole = decodeAll(bytes)
    expect(decodeAll(bytes, vectors.stream.split_at)).toEqual(whole)
    for (const at of vectors.stream.split_at) expect(decodeAll(bytes, [at])).toEqual(whole)
  })

  it('decodes the same cut at every offset, and byte by byte', () => {
    const whole = decodeAll(bytes)
    for (let at = 0; at <= bytes.length; at++) expect(decodeAll(bytes, [at])).toEqual(whole)
    expect(
      decodeAll(
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i),
      ),
    ).toEqual(whole)
  })

  it('drops unknown Status members and keeps the known ones', () => {
    const [, second] = decodeAll(bytes)
    expect(second?.code).toBe('SHAKEHAND')
    expect(second?.data).not.toHaveProperty('future')
    expect(second?.data).toHaveProperty('genesis', vectors.genesis.block.block_header.hash)
  })
})

describe('priority', () => {
  it.each(vectors.priority.map((v) => [v.a.slice(0, 8), v.b.slice(0, 8), v] as const))(
    '%s vs %s',
    (_, __, v) => {
      expect(higherPriority(v.a, v.b)).toBe(v.winner)
      expect(higherPriority(v.b, v.a)).toBe(v.winner)
    },
  )
})

describe('chain order', () => {
  it.each(vectors.chain_order.map((v, i) => [i, v] as const))('entry %i', (_, v) => {
    expect(isBetterChain(v.a, v.b)).toBe(v.a_better)
  })
})

describe('fanout', () => {
  it.each(vectors.fanout.map((v) => [v.peers_without_block, v] as const))('%i peers', (m, v) => {
    expect(fanout(m)).toEqual({ fullBlock: v.full_block_to, hashOnly: v.hash_to })
  })
})
