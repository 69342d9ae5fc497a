// Property tests: what must hold for every input, not just the vectors.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CodecError,
  canonicalize,
  computeHeaderHash,
  encodeFrame,
  encodeMessage,
  frameBody,
  MESSAGE_CODES,
  MessageDecoder,
} from '../src/index.js'
import * as arb from './arbitraries.js'
import { decodeAll } from './vectors.js'

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts))
}

/** Runs the decoder on input that may be hostile; returns the error, if any. */
function decodeHostile(chunks: Uint8Array[], maxBodyBytes?: number): unknown {
  const decoder = new MessageDecoder({ maxBodyBytes })
  try {
    for (const chunk of chunks) decoder.push(chunk, () => {})
    decoder.end()
  } catch (error) {
    return error
  }
  return undefined
}

const utf8 = new TextEncoder()

/**
 * JCS by its definition: members sorted by UTF-16 code units, everything else
 * as JSON.stringify writes it. Written out by hand: an object cannot carry the
 * order, since JavaScript lists integer-like keys ("0") before all others.
 */
function jcsByDefinition(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jcsByDefinition).join(',')}]`
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${jcsByDefinition(item)}`).join(',')}}`
}

describe('canonicalize', () => {
  it('writes members sorted by UTF-16 code units and the rest as JSON.stringify does, for any well-formed JSON', () => {
    // Strings of every kind: quotes, backslashes, control characters, non-ASCII, astral.
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
    )
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value')),
        fc.dictionary(text, tie('value')),
      ),
    })).value
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalize(value)).toBe(jcsByDefinition(value))
      }),
    )
  })

  it('refuses a lone surrogate in a string or a member name', () => {
    expect(() => canonicalize('a\ud800')).toThrow(CodecError)
    expect(() => canonicalize({ '\udc00': 1 })).toThrow(CodecError)
  })
})

describe('round trip', () => {
  it('decode(encode(m)) is m, for every valid message', () => {
    fc.assert(
      fc.property(arb.message(), (message) => {
        const [decoded] = decodeAll(encodeFrame(message), [])
        // Compared as wire text: JSON has no -0 and no key order of its own to keep.
        expect(encodeMessage(decoded!)).toBe(encodeMessage(message))
      }),
      { numRuns: 300 },
    )
  })

  it('a stream of messages cut at arbitrary offsets decodes to the same messages', () => {
    fc.assert(
      fc.property(
        fc.array(arb.message(), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (messages, rawCuts) => {
          const stream = concat(messages.map((m) => encodeFrame(m)))
          const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort(
            (a, b) => a - b,
          )
          const decoded = decodeAll(stream, cuts)
          expect(decoded.map(encodeMessage)).toEqual(messages.map(encodeMessage))
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('hostile input gives a message or a typed error, nothing else', () => {
  const onlyTypedErrors = (error: unknown) => {
    if (error !== undefined) expect(error).toBeInstanceOf(CodecError)
  }

  it('arbitrary bytes, arbitrarily chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        onlyTypedErrors(decodeHostile(chunks, 1024))
      }),
      { numRuns: 500 },
    )
  })

  it('well-framed arbitrary bodies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), (body) => {
        onlyTypedErrors(decodeHostile([frameBody(body)]))
      }),
      { numRuns: 500 },
    )
  })

  it('well-framed arbitrary JSON, envelopes with arbitrary data, and valid codes with wrong data', () => {
    const envelope = fc.record(
      {
        code: fc.oneof(
          fc.constantFrom<string>(...MESSAGE_CODES, '__proto__', 'constructor'),
          fc.jsonValue(),
        ),
        data: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), envelope), (value) => {
        onlyTypedErrors(decodeHostile([frameBody(utf8.encode(JSON.stringify(value) ?? 'null'))]))
      }),
      { numRuns: 500 },
    )
  })

  it('valid messages with one byte flipped', () => {
    fc.assert(
      fc.property(arb.message(), fc.nat(), fc.integer({ min: 1, max: 255 }), (message, at, xor) => {
        const frame = encodeFrame(message).slice()
        const i = at % frame.length
        frame[i] = frame[i]! ^ xor
        onlyTypedErrors(decodeHostile([frame]))
      }),
      { numRuns: 500 },
    )
  })
})

describe('header hash', () => {
  const fields = ['height', 'prev_hash', 'timestamp', 'tx_root', 'producer'] as const

  it('changes when any hashed header member changes', () => {
    fc.assert(
      fc.property(
        arb.header(),
        fc.constantFrom(...fields),
        arb.uint(),
        arb.hash(),
        arb.name(),
        (header, field, n, h, s) => {
          const replacement = { height: n, timestamp: n, prev_hash: h, tx_root: h, producer: s }[
            field
          ]
          fc.pre(replacement !== header[field])
          const changed = { ...header, [field]: replacement }
          expect(computeHeaderHash(changed)).not.toBe(computeHeaderHash(header))
        },
      ),
      { numRuns: 500 },
    )
  })
})
