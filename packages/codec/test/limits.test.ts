// The 1.1 bounds of sections 3 and 6 beyond the shared vectors: nesting is
// measured before parsing (strings skipped), and a block is weighed by its
// canonical form, however short the sender wrote its numbers.
import { describe, expect, it } from 'vitest'
import {
  type CodecError,
  checkNestingDepth,
  createBlock,
  createGenesis,
  decodeMessage,
  readNetworkParams,
  verifyBlock,
} from '../src/index.js'

const codeOf = (run: () => unknown) => {
  try {
    run()
  } catch (error) {
    return (error as CodecError).code
  }
  return 'ok'
}

describe('nesting depth', () => {
  it('counts arrays and objects, with the envelope at level 1', () => {
    expect(codeOf(() => checkNestingDepth(`${'['.repeat(64)}${']'.repeat(64)}`))).toBe('ok')
    expect(codeOf(() => checkNestingDepth(`${'['.repeat(65)}${']'.repeat(65)}`))).toBe(
      'NESTING_TOO_DEEP',
    )
  })

  it('ignores brackets inside strings, escaped quotes included', () => {
    const inside = `"${'['.repeat(100)}\\"${'{'.repeat(100)}\\\\"`
    expect(codeOf(() => checkNestingDepth(`{"a":${inside}}`))).toBe('ok')
    // After an escaped backslash the quote closes the string: what follows counts.
    expect(codeOf(() => checkNestingDepth(`{"a":"\\\\",${'['.repeat(64)}`))).toBe(
      'NESTING_TOO_DEEP',
    )
  })

  it('refuses a body nested 4 million deep before JSON.parse sees it', () => {
    const body = `{"code":"SHAKEHAND","data":{"x":${'['.repeat(4_000_000)}${']'.repeat(4_000_000)}}}`
    expect(codeOf(() => decodeMessage(body))).toBe('NESTING_TOO_DEEP')
  })
})

describe('a block is weighed by its JCS envelope', () => {
  const genesis = createGenesis({ network: 't', roundMs: 1000, timestamp: 1_000_000 })
  const network = readNetworkParams(genesis)

  it('numbers written short (1e20) count at their canonical length', () => {
    const wire = `{"block_header":{},"transactions":[${Array.from({ length: 200 }, () => '{"n":1e20}').join(',')}]}`
    const transactions = (JSON.parse(wire) as { transactions: { n: number }[] }).transactions
    const block = createBlock({
      height: 1,
      prevHash: genesis.block_header.hash,
      timestamp: 1_001_000,
      producer: 'p:1',
      transactions,
    })
    // On the wire each transaction is 10 bytes; canonical, 28.
    const check = verifyBlock(block, { network, maxBodyBytes: 200 * 20 })
    expect(check.ok ? 'ok' : check.reason).toBe('TOO_LARGE')
    expect(verifyBlock(block, { network, maxBodyBytes: 200 * 40 }).ok).toBe(true)
  })
})
