// The fast paths against what they replace: each must give the same result,
// or decline and leave the decision to the original, on random and
// adversarial input. A fast path that declines everything would pass the
// equality checks, so each property also requires it to answer on plain input.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { acceptBlock } from '../src/block-shape.js'
import { checkBytesDepthInJs } from '../src/depth.js'
import { exceedsDepthWasm, WASM_MIN_BYTES } from '../src/depth-wasm.js'
import { checkNestingDepth, NestingTooDeepError } from '../src/index.js'
import {
  canonicalizeByWalk,
  canonicalizeEach,
  canonicalizeInOneCall,
  canonicalizeInOnePass,
} from '../src/jcs.js'
import { blockSchema } from '../src/schema.js'
import { decodeUtf8 } from '../src/utf8.js'
import * as arb from './arbitraries.js'

/** The value's JCS, or the class and message of what canonicalizing it threw. */
function outcome(run: () => string): string {
  try {
    return `ok ${run()}`
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`
  }
}

// Strings that stress the text check: lone surrogates, a literal `\ud`, the
// one-pass separator, quotes, backslashes, control characters, astral.
const awkwardString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('\ud800', 'a\udfff', '\\ud800', '\\', '"', '\u0001', ',"\\u0001",', '\u2028', ''),
)
// Member names: the above, plus integer-like names (JavaScript lists them
// first), `__proto__`, and names inherited from Object.prototype.
const memberName = fc.oneof(
  awkwardString,
  fc.constantFrom(
    '0',
    '1',
    '10',
    '2',
    '4294967295',
    '-1',
    '01',
    '__proto__',
    'toString',
    'constructor',
  ),
)
const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, Number.NaN, Infinity),
)
/** JSON-like values, with own `__proto__` members made as JSON.parse makes them. */
const jsonLike = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    awkwardString,
    number,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(fc.tuple(memberName, tie('value')), { maxLength: 6 }).map((entries) => {
      const object: Record<string, unknown> = {}
      for (const [key, value] of entries)
        Object.defineProperty(object, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        })
      return object
    }),
  ),
})).value
/** Values no JSON text gives: the fast way must decline them, the walk decides. */
const notJson = fc.constantFrom<unknown>(
  undefined,
  () => 1,
  Symbol('s'),
  10n,
  new Date(0),
  new String('ab'),
  Object.assign(new Array(3), { 0: 1, 2: 3 }), // a hole at 1
  [1, undefined, 3],
  { toJSON: () => 'x' },
  Object.assign(Object.create(null), { b: 1, a: 2 }),
  new (class Point {
    x = 1
  })(),
  new Uint8Array(2),
)
const anyValue = fc.oneof(
  jsonLike,
  notJson,
  fc.array(fc.oneof(jsonLike, notJson), { maxLength: 4 }),
)

/**
 * JSON data as the protocol carries it: no lone surrogates, finite numbers,
 * and objects that mostly share their member names, as transactions do (the
 * fast way declines, by design, when names differ from object to object so
 * much that a property list would cost more lookups than it saves).
 */
const sharedName = fc.constantFrom(
  'amount',
  'from',
  'to',
  'memo',
  'a',
  'b',
  '10',
  '2',
  'ü',
  '😀',
  '',
)
const plainJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'grapheme' }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(sharedName, tie('value'), { maxKeys: 5 }),
  ),
})).value
const plainObject = fc.dictionary(sharedName, plainJson, { maxKeys: 6 })

describe('canonicalize: one native JSON.stringify agrees with the member-by-member walk', () => {
  it('for random and adversarial values, the same text or the same error', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        const fast = canonicalizeInOneCall(value)
        if (fast !== undefined) expect(fast).toBe(canonicalizeByWalk(value))
      }),
      { numRuns: 2000 },
    )
  })

  it('answers (does not decline) for plain JSON objects and arrays', () => {
    fc.assert(
      fc.property(fc.oneof(plainObject, fc.array(plainJson)), (value) => {
        expect(canonicalizeInOneCall(value)).toBe(canonicalizeByWalk(value))
      }),
      { numRuns: 1000 },
    )
  })

  it('orders integer-like member names by code units, as JCS does and an object cannot', () => {
    const value = JSON.parse('{"b":1,"10":2,"2":3,"a":{"1":4,"01":5},"__x":6}')
    expect(canonicalizeInOneCall(value)).toBe('{"10":2,"2":3,"__x":6,"a":{"01":5,"1":4},"b":1}')
  })

  it('declines an own __proto__ member (a listed __proto__ would find every prototype) and the walk writes it', () => {
    const value = JSON.parse('{"__proto__":{"z":1},"a":[{}]}')
    expect(canonicalizeInOneCall(value)).toBeUndefined()
    expect(canonicalizeByWalk(value)).toBe('{"__proto__":{"z":1},"a":[{}]}')
  })
})

describe('canonicalizeEach: one pass over many values agrees with one walk per value', () => {
  const list = fc.array(fc.oneof(anyValue, plainObject), { maxLength: 12 })

  it('for random and adversarial lists, element by element the same text or the same error', () => {
    fc.assert(
      fc.property(list, (values) => {
        const expected = values.map((value) => outcome(() => canonicalizeByWalk(value)))
        const texts = new Array<string>(values.length)
        if (values.length >= 2 && canonicalizeInOnePass(values, 0, values.length, texts))
          expect(texts.map((text) => `ok ${text}`)).toEqual(expected)
        let all: string[] | undefined
        const failure = outcome(() => {
          all = canonicalizeEach(values)
          return ''
        })
        if (all) expect(all.map((text) => `ok ${text}`)).toEqual(expected)
        else expect(expected).toContain(failure)
      }),
      { numRuns: 2000 },
    )
  })

  it('answers for lists of plain transactions, unless one holds the separator string in an array', () => {
    fc.assert(
      fc.property(fc.array(plainObject, { minLength: 2, maxLength: 40 }), (values) => {
        const texts = new Array<string>(values.length)
        const answered = canonicalizeInOnePass(values, 0, values.length, texts)
        const expected = values.map((value) => canonicalizeByWalk(value))
        if (answered) expect(texts).toEqual(expected)
        expect(canonicalizeEach(values)).toEqual(expected)
        // Declining here can only be for a separator inside (the names are shared, the data plain).
        if (!answered) expect(expected.some((text) => text.includes(',"\\u0001",'))).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('sends a list whose element holds the separator in an array the slow way, with the same texts', () => {
    const values = [{ a: ['x', '\u0001', 'y'] }, { b: 1 }, { c: ['\u0001'] }]
    const texts = new Array<string>(3)
    expect(canonicalizeInOnePass(values, 0, 3, texts)).toBe(false)
    expect(canonicalizeEach(values)).toEqual(values.map((value) => canonicalizeByWalk(value)))
  })

  it('spans several passes for a long list', () => {
    const values = Array.from({ length: 700 }, (_, i) => ({
      z: i,
      a: `t${i}`,
      m: i % 7 ? [i] : { y: 'ü', b: null },
    }))
    expect(canonicalizeEach(values)).toEqual(values.map((value) => canonicalizeByWalk(value)))
  })
})

describe('acceptBlock agrees with blockSchema', () => {
  const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-fA-F]{${n - 1},${n + 1}}$`))
  const almostUint = fc.oneof(
    arb.uint(),
    fc.constantFrom(-1, -0, 1.5, 2 ** 53, 2 ** 53 - 1, Number.MAX_VALUE, '1', null),
  )
  const almostHeader = fc.record(
    {
      height: almostUint,
      prev_hash: fc.oneof(arb.hash(), hex(64)),
      timestamp: almostUint,
      tx_root: fc.oneof(arb.hash(), hex(64)),
      producer: fc.oneof(arb.name(), fc.string({ maxLength: 300, unit: 'binary' }), fc.constant(7)),
      hash: fc.oneof(arb.hash(), hex(64)),
      extra: fc.constant(1),
    },
    { requiredKeys: [] },
  )
  const almostBlock = fc.record(
    {
      block_header: fc.oneof(arb.header(), almostHeader, fc.constant(null)),
      transactions: fc.oneof(
        fc.array(arb.transaction(), { maxLength: 4 }),
        fc.array(fc.oneof(arb.transaction(), fc.jsonValue()), { maxLength: 4 }),
        fc.constant({}),
      ),
      seal: fc.jsonValue(),
      other: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )

  it('accepts only what the schema accepts, returning what it returns', () => {
    fc.assert(
      fc.property(fc.oneof(almostBlock, fc.jsonValue()), (value) => {
        const accepted = acceptBlock(value)
        if (accepted === undefined) return
        const parsed = blockSchema.safeParse(value)
        expect(parsed.success).toBe(true)
        expect(accepted).toStrictEqual(parsed.data)
        expect(Object.keys(accepted)).toEqual(Object.keys(parsed.data!))
        expect(Object.keys(accepted.block_header)).toEqual(Object.keys(parsed.data!.block_header))
        expect(accepted.transactions).toBe(parsed.data!.transactions)
      }),
      { numRuns: 3000 },
    )
  })

  it('accepts every valid block, sealed or not, also after a JSON round trip', () => {
    fc.assert(
      fc.property(arb.block(), fc.option(fc.jsonValue(), { nil: undefined }), (block, seal) => {
        const value = JSON.parse(JSON.stringify(seal === undefined ? block : { ...block, seal }))
        expect(acceptBlock(value)).toStrictEqual(blockSchema.parse(value))
      }),
      { numRuns: 500 },
    )
  })
})

describe('the nesting-depth scan on UTF-8 bytes agrees with the scan on text', () => {
  const piece = fc.oneof(
    fc.constantFrom('[', ']', '{', '}', '"', '\\', '\\"', '\\\\', ',', ':', 'é', '✓', '😀'),
    fc.string({ maxLength: 3 }),
  )
  const text = fc.array(piece, { maxLength: 200 }).map((parts) => parts.join(''))
  const verdict = (run: () => void) => {
    try {
      run()
      return 'ok'
    } catch (error) {
      return error instanceof NestingTooDeepError ? 'deep' : String(error)
    }
  }

  it('for random text of brackets, quotes, escapes and non-ASCII, at depth limits 1..8', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 8 }), (value, max) => {
        const bytes = new TextEncoder().encode(value)
        expect(verdict(() => checkNestingDepth(bytes, max))).toBe(
          verdict(() => checkNestingDepth(value, max)),
        )
      }),
      { numRuns: 3000 },
    )
  })

  it('in WebAssembly as in JS, for bodies large enough to take the WebAssembly scan', () => {
    const body = fc
      .tuple(text, fc.nat(), fc.integer({ min: 1, max: 70 }))
      .map(([value, at, max]) => {
        // The random text is placed anywhere inside padding that makes the body large enough.
        const padding = ' '.repeat(WASM_MIN_BYTES)
        const cut = at % (padding.length + 1)
        return {
          bytes: new TextEncoder().encode(padding.slice(0, cut) + value + padding.slice(cut)),
          max,
        }
      })
    fc.assert(
      fc.property(body, ({ bytes, max }) => {
        const wasm = exceedsDepthWasm(bytes, max)
        expect(wasm).toBeTypeOf('boolean')
        expect(wasm ? 'deep' : 'ok').toBe(verdict(() => checkBytesDepthInJs(bytes, max)))
      }),
      { numRuns: 1000 },
    )
    const deep = new TextEncoder().encode(`${' '.repeat(WASM_MIN_BYTES)}${'['.repeat(65)}`)
    expect(exceedsDepthWasm(deep, 64)).toBe(true)
    expect(exceedsDepthWasm(deep, 65)).toBe(false)
  })
})

describe('decodeUtf8 agrees with a fatal TextDecoder', () => {
  const reference = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  const verdict = (run: () => string) => {
    try {
      return `ok ${run()}`
    } catch (error) {
      return `${(error as Error).constructor.name}`
    }
  }

  it('on bodies long enough for the transcoding path: valid, non-ASCII, BOM, and with bytes broken', () => {
    const body = fc
      .tuple(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 400 }).filter((s) => s.isWellFormed()),
        fc.boolean(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 2 }),
      )
      .map(([text, bom, flips]) => {
        const bytes = new TextEncoder().encode(`${bom ? '\ufeff' : ''}${'x'.repeat(1024)}${text}`)
        for (const [at, byte] of flips) bytes[at % bytes.length] = byte
        return bytes
      })
    fc.assert(
      fc.property(body, (bytes) => {
        const expected = verdict(() => reference.decode(bytes))
        expect(verdict(() => decodeUtf8(bytes))).toBe(
          expected.startsWith('ok') ? expected : 'InvalidUtf8Error',
        )
      }),
      { numRuns: 1000 },
    )
  })

  it('refuses overlong forms, encoded surrogates, and a truncated sequence at the end', () => {
    const padding = new TextEncoder().encode(`é${'x'.repeat(1100)}`)
    for (const bad of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x9c],
    ]) {
      const bytes = new Uint8Array([...padding, ...bad])
      expect(() => decodeUtf8(bytes)).toThrow(expect.objectContaining({ code: 'INVALID_UTF8' }))
    }
  })
})
