import { describe, expect, it } from 'vitest'
import { createNonce } from '../src/index.js'

describe('createNonce', () => {
  it('hands out well-formed nonces that never repeat, across pool refills', () => {
    // 1,000 nonces span more than 15 refills of the 64-nonce pool.
    const nonces = Array.from({ length: 1000 }, () => createNonce())
    for (const nonce of nonces) expect(nonce).toMatch(/^[0-9a-f]{64}$/)
    expect(new Set(nonces).size).toBe(nonces.length)
  })
})
