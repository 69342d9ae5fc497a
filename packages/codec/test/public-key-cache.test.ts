import { afterEach, describe, expect, it } from 'vitest'
import {
  generateNodeKey,
  publicKeyCacheEntries,
  setPublicKeyCacheSize,
  verifySignature,
} from '../src/index.js'

const DEFAULT = 256
afterEach(() => {
  setPublicKeyCacheSize(DEFAULT)
})

describe('the parsed public key cache', () => {
  it('holds at most its size, and verifying gives the same answers through a hit, a miss and an eviction', () => {
    const keys = Array.from({ length: 40 }, () => generateNodeKey())
    const signed = keys.map((key) => ({ key, sig: key.sign(`text of ${key.publicKey}`) }))
    const verdicts = () =>
      signed.map(({ key, sig }, i) => [
        verifySignature(key.publicKey, `text of ${key.publicKey}`, sig),
        // Another key's signature, and a changed text: false whether the key was cached or not.
        verifySignature(key.publicKey, `text of ${key.publicKey}`, signed[(i + 1) % 40]!.sig),
        verifySignature(key.publicKey, 'another text', sig),
      ])
    const expected = keys.map(() => [true, false, false])
    expect(setPublicKeyCacheSize(10)).toBe(DEFAULT)
    expect(verdicts()).toEqual(expected)
    expect(publicKeyCacheEntries()).toBe(10)
    setPublicKeyCacheSize(100)
    expect(verdicts()).toEqual(expected)
    expect(verdicts()).toEqual(expected)
    expect(publicKeyCacheEntries()).toBe(40)
    // Shrinking evicts down to the new size at once.
    setPublicKeyCacheSize(5)
    expect(publicKeyCacheEntries()).toBe(5)
    expect(verdicts()).toEqual(expected)
  })

  it('refuses a size that is not a positive whole number, naming what it holds', () => {
    for (const bad of [0, -1, 2.5, Number.NaN])
      expect(() => setPublicKeyCacheSize(bad)).toThrow(/positive whole number of keys/)
  })
})
