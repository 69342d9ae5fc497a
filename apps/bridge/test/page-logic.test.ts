// The page's pure logic (web/src): the seq check and the figures it draws.
import { describe, expect, it } from 'vitest'
import type { BlockView, NodeView, ServerMessage } from '../src/protocol.js'
import { type SequenceState, sequence } from '../web/src/sequence.ts'
import { blockTimes, cdf, confirmedChain, histogram, summarize } from '../web/src/stats.ts'

const snapshot = (seq: number): ServerMessage => ({
  v: 2,
  type: 'snapshot',
  seq,
  data: {
    network: { network: null, producers: null, inTurn: null },
    nodes: [],
    edges: [],
    blocks: [],
    events: [],
  },
})
const delta = (seq: number): ServerMessage => ({ v: 2, type: 'delta', seq, data: {} })

function run(messages: ServerMessage[]) {
  let state: SequenceState = { kind: 'waiting' }
  return messages.map((m) => {
    const step = sequence(state, m)
    state = step.state
    return step.verdict
  })
}

const block = (height: number, firstSeen: number, extra: Partial<BlockView> = {}): BlockView => ({
  hash: `${height}`.padStart(64, '0'),
  height,
  producer: 'p',
  transactions: 0,
  firstSeen,
  confirmed: true,
  reach: [],
  t50: null,
  t90: null,
  t95: null,
  t99: null,
  t100: null,
  ...extra,
})

describe('the page', () => {
  it('applies deltas in step, and on a seq gap drops deltas and resubscribes once until a snapshot', () => {
    expect(
      run([
        delta(4),
        snapshot(5),
        delta(6),
        delta(7),
        delta(9),
        delta(10),
        snapshot(12),
        delta(13),
      ]),
    ).toEqual(['ignore', 'apply', 'apply', 'apply', 'resubscribe', 'ignore', 'apply', 'apply'])
    // A pong is not an update, whatever its seq.
    expect(run([snapshot(1), { v: 2, type: 'pong', seq: 9, data: { t: 0 } }, delta(2)])).toEqual([
      'apply',
      'ignore',
      'apply',
    ])
  })

  it('bins confirmed propagation in fixed 100 ms bins with an overflow bin, and times blocks', () => {
    expect(histogram([0, 99, 100, 250, 999, 1000, 5000])).toEqual([2, 1, 1, 0, 0, 0, 0, 0, 0, 1, 2])
    const chain = confirmedChain([
      block(1, 1000),
      block(2, 2100),
      block(2, 2000, { hash: 'x'.repeat(64), confirmed: false }),
      block(3, 3000, { t100: 120 }),
      block(5, 5000, { t100: 80 }),
    ])
    expect(chain.map((b) => b.height)).toEqual([1, 2, 3, 5])
    expect(blockTimes(chain)).toEqual([
      { height: 2, ms: 1100 },
      { height: 3, ms: 900 },
    ])
    const up = { up: true, pending: 4 } as NodeView
    expect(summarize([up, { ...up, up: false } as NodeView], chain)).toMatchObject({
      best: 5,
      avgBlockMs: 1000,
      avgPropagationMs: 100,
      up: 1,
      total: 2,
      pending: 4,
    })
  })

  it("draws a block's first-seen CDF over the nodes, holders only", () => {
    const b = block(1, 100, {
      reach: [
        { node: 'a', at: 100, via: null, arrival: 'produced' },
        { node: 'b', at: 150, via: 'a', arrival: 'push' },
        { node: 'c', at: 130, via: 'a', arrival: 'announced' },
        { node: 'd', at: 400, via: null, arrival: 'synced' },
      ],
    })
    expect(cdf(b, 4)).toEqual([
      { ms: 0, share: 0.25 },
      { ms: 50, share: 0.5 },
      { ms: 300, share: 0.75 },
    ])
  })
})
