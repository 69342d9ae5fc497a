/**
 * RFC 8785 JSON Canonicalization Scheme. ECMAScript's JSON.stringify already
 * writes numbers and strings exactly as JCS wants; what JCS adds is member
 * order (by UTF-16 code units, which is what the default sort compares) and
 * the refusal of values I-JSON does not allow.
 */
import { NotCanonicalizableError } from './errors.js'

export function canonicalize(value: unknown): string {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new NotCanonicalizableError('string with a lone surrogate')
      return JSON.stringify(value)
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
    if (!key.isWellFormed()) throw new NotCanonicalizableError('member name with a lone surrogate')
    if (i > 0) out += ','
    out += `${JSON.stringify(key)}:${canonicalize(object[key])}`
  }
  return `${out}}`
}
