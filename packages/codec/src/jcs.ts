/**
 * RFC 8785 JSON Canonicalization Scheme. ECMAScript's JSON.stringify already
 * writes numbers and strings exactly as JCS wants; what JCS adds is member
 * order (by UTF-16 code units, which is what the default sort compares) and
 * the refusal of values I-JSON does not allow.
 */
import { NotCanonicalizableError } from './errors.js'

// Printable ASCII but `"` and `\`: JSON.stringify would return it quoted and
// unchanged, so quoting it ourselves skips a call per key and per string.
const NEEDS_NO_ESCAPE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

function quote(text: string, what: string): string {
  if (NEEDS_NO_ESCAPE.test(text)) return `"${text}"`
  if (!text.isWellFormed()) throw new NotCanonicalizableError(`${what} with a lone surrogate`)
  return JSON.stringify(text)
}

export function canonicalize(value: unknown): string {
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

function canonicalizeArray(items: readonly unknown[]): string {
  let out = '['
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ','
    out += canonicalize(items[i])
  }
  return `${out}]`
}

function canonicalizeObject(object: Record<string, unknown>): string {
  const keys = Object.keys(object).sort()
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    if (i > 0) out += ','
    out += `${quote(key, 'member name')}:${canonicalize(object[key])}`
  }
  return `${out}}`
}
