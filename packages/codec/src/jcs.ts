/**
 * RFC 8785 JSON Canonicalization Scheme. ECMAScript's JSON.stringify already
 * writes numbers and strings exactly as JCS wants; what JCS adds is member
 * order (by UTF-16 code units, which is what the default sort compares) and
 * the refusal of values I-JSON does not allow.
 *
 * Two ways to the same bytes. `canonicalizeByWalk` writes the text member by
 * member in JS: it is the definition, and it decides every value the fast
 * way declines. The fast way hands the whole value to one native
 * JSON.stringify with a property list: the sorted union of every member name
 * in the value. With such a list JSON.stringify writes each object's members
 * in the list's order, skipping those the object lacks, which is JCS order
 * whatever order the object holds them in (integer-like names included, which
 * a sorted copy could not carry). A JS walk first makes sure the value is
 * plain data JSON.stringify writes as JCS does; the text is then searched once
 * for `\ud`, which is how JSON.stringify writes a lone surrogate.
 */
import { NotCanonicalizableError } from './errors.js'

// Printable ASCII but `"` and `\`: JSON.stringify would return it quoted and
// unchanged, so quoting it ourselves skips a call per key and per string.
const NEEDS_NO_ESCAPE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/** JCS of `value`; throws NOT_CANONICALIZABLE for what has no JCS form. */
export function canonicalize(value: unknown): string {
  return canonicalizeInOneCall(value) ?? canonicalizeByWalk(value)
}

/**
 * JCS of an object or array by one native JSON.stringify, or undefined when
 * the fast way declines. Exported for the property tests.
 */
export function canonicalizeInOneCall(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const walk = newWalk()
  if (!collectValue(value, walk, 0) || !withinLookupBudget(walk)) return undefined
  const text = JSON.stringify(value, sortedNames(walk.names))
  return text.includes(LONE_SURROGATE_ESCAPE) ? undefined : text
}

/**
 * JCS of each value of a list, as `values.map(canonicalize)` gives it, with
 * one native JSON.stringify per ONE_PASS_ELEMENTS elements when the fast way
 * applies (block transactions: thousands of small objects, where a call per
 * object is what costs). Elements are written between separators that no
 * element can contain without making the split count come out wrong.
 */
export function canonicalizeEach(values: readonly unknown[]): string[] {
  const n = values.length
  const texts = new Array<string>(n)
  for (let start = 0; start < n; start += ONE_PASS_ELEMENTS) {
    const end = Math.min(n, start + ONE_PASS_ELEMENTS)
    if (end - start < 2 || !canonicalizeInOnePass(values, start, end, texts))
      for (let i = start; i < end; i++) texts[i] = canonicalize(values[i])
  }
  return texts
}

/** The definition, one member at a time; also the slow path of both functions above. */
export function canonicalizeByWalk(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quote(value, 'string')
    case 'number':
      if (!Number.isFinite(value)) throw new NotCanonicalizableError(`number ${value}`)
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      if (value === null) return 'null'
      if (Array.isArray(value)) return canonicalizeArray(value)
      return canonicalizeObject(value as Record<string, unknown>)
    default:
      throw new NotCanonicalizableError(`a value of type ${typeof value}`)
  }
}

function quote(text: string, what: string): string {
  if (NEEDS_NO_ESCAPE.test(text)) return `"${text}"`
  if (!text.isWellFormed()) throw new NotCanonicalizableError(`${what} with a lone surrogate`)
  return JSON.stringify(text)
}

function canonicalizeArray(items: readonly unknown[]): string {
  let out = '['
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ','
    out += canonicalizeByWalk(items[i])
  }
  return `${out}]`
}

function canonicalizeObject(object: Record<string, unknown>): string {
  const keys = Object.keys(object).sort()
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    if (i > 0) out += ','
    out += `${quote(key, 'member name')}:${canonicalizeByWalk(object[key])}`
  }
  return `${out}}`
}

// --- the fast way -----------------------------------------------------------

/** JSON.stringify writes a lone surrogate as `\udXXX`; a literal `\ud` in a string comes out as `\\ud`. */
const LONE_SURROGATE_ESCAPE = '\\ud'

/**
 * With a property list, JSON.stringify looks every listed name up on every
 * object, present or not: names x objects lookups. The fast way is taken
 * while that stays within a small multiple of the members actually there
 * (so a list of objects each with names of its own goes the slow way).
 */
const MAX_LOOKUPS_PER_MEMBER = 4
const FREE_LOOKUPS = 256

/**
 * Between two elements of the one-pass text: `,"\u0001",`, the separator
 * string "\u0001" as JSON.stringify writes it. An element (an object, so
 * its text starts with `{` and ends with `}`) could contain it only as a
 * string inside an array of its own; that adds a piece to the split, and the
 * count check sends the list the slow way.
 */
const SEPARATOR_VALUE = '\u0001'
const SEPARATOR_TEXT = ',"\\u0001",'

/**
 * Elements per native pass. JSON.stringify returns its text as a tree of
 * parts that the first read flattens; flattening a mixed one-/two-byte text
 * of a whole 1,000-transaction block (128 KB in two-byte form, a large-object
 * allocation) cost more than a few smaller passes do.
 */
const ONE_PASS_ELEMENTS = 256

// Nested deeper than this, the walk declines and the slow way decides (and
// throws RangeError on a value too deep for the stack, as it always did).
const MAX_WALK_DEPTH = 256

interface Walk {
  /** Every member name met, at any depth. */
  names: Set<string>
  objects: number
  members: number
}

function newWalk(): Walk {
  return { names: new Set(), objects: 0, members: 0 }
}

function withinLookupBudget(walk: Walk): boolean {
  return walk.names.size * walk.objects <= MAX_LOOKUPS_PER_MEMBER * walk.members + FREE_LOOKUPS
}

/**
 * Writes the JCS of `values[start..end)` into `texts`; false (texts not all
 * written) when the fast way declines. Exported for the property tests.
 */
export function canonicalizeInOnePass(
  values: readonly unknown[],
  start: number,
  end: number,
  texts: string[],
): boolean {
  const n = end - start
  const walk = newWalk()
  let previous: string[] | undefined
  const interleaved = new Array<unknown>(2 * n - 1)
  for (let i = 0; i < n; i++) {
    const value = values[start + i]
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
    const keys = plainObjectKeys(value)
    if (keys === undefined) return false
    // Transactions mostly share one shape: the same names in the same order
    // as the element before need not be added to the set again.
    const sameShape = previous !== undefined && sameNames(keys, previous)
    if (!collectMembers(value as Record<string, unknown>, keys, walk, 1, !sameShape)) return false
    previous = keys
    interleaved[2 * i] = value
    if (i + 1 < n) interleaved[2 * i + 1] = SEPARATOR_VALUE
  }
  if (!withinLookupBudget(walk)) return false
  const text = JSON.stringify(interleaved, sortedNames(walk.names))
  if (text.includes(LONE_SURROGATE_ESCAPE)) return false
  const pieces = text.slice(1, -1).split(SEPARATOR_TEXT)
  if (pieces.length !== n) return false
  for (let i = 0; i < n; i++) texts[start + i] = pieces[i]!
  return true
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function sortedNames(names: Set<string>): string[] {
  return [...names].sort()
}

/**
 * Own enumerable names of a plain object (prototype Object.prototype or
 * null), or undefined for anything JSON.stringify might write otherwise
 * (Date and other `toJSON` carriers, boxed primitives, class instances).
 */
function plainObjectKeys(value: object): string[] | undefined {
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) return undefined
  return Object.keys(value)
}

/**
 * True when `value` is plain JSON data whose JSON.stringify text with the
 * sorted property list is its JCS (lone surrogates aside: those are found in
 * the text); records its member names in `walk`. False: the slow way decides.
 */
function collectValue(value: unknown, walk: Walk, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object': {
      if (value === null) return true
      if (depth > MAX_WALK_DEPTH) return false
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return false
        for (let i = 0; i < value.length; i++)
          if (!collectValue(value[i], walk, depth + 1)) return false
        return true
      }
      const keys = plainObjectKeys(value)
      if (keys === undefined) return false
      return collectMembers(value as Record<string, unknown>, keys, walk, depth, true)
    }
    default:
      // undefined, functions, symbols, bigints
      return false
  }
}

function collectMembers(
  object: Record<string, unknown>,
  keys: readonly string[],
  walk: Walk,
  depth: number,
  addNames: boolean,
): boolean {
  walk.objects++
  walk.members += keys.length
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!
    // A listed `__proto__` would be looked up on every object and find its prototype.
    if (key === '__proto__') return false
    if (addNames) walk.names.add(key)
    if (!collectValue(object[key], walk, depth + 1)) return false
  }
  return true
}
