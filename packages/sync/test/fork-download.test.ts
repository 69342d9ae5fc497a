// The fork download as a table: (state, event) -> (state, effects), on a
// fake clock, no sockets. Chains come from the one test builder.
import { type Block, compareBlocks, type NetworkParams, roundEnd, roundOf } from '@chronos/codec'
import { describe, expect, it } from 'vitest'
import {
  type ForkEffect,
  type ForkEvent,
  type ForkRules,
  type ForkState,
  startFork,
  stepFork,
} from '../src/fork-download.js'
import { buildChain, genesis, nextBlock, params, ROUND_MS } from './helpers.js'

const TARGET = 'target:1'
const HELPER = 'helper:2'
/** Long after every test block's round has ended. */
const LATER = genesis.block_header.timestamp + 1_000_000 * ROUND_MS
const rules: ForkRules = { network: params, target: TARGET, maxHeld: 8 }

const main = buildChain(genesis, 20)
const at = (height: number) => main[height - 1]!
const headers = (blocks: readonly Block[]) => blocks.map((b) => b.block_header)
const block = (b: Block, source = TARGET, nowMs = LATER): ForkEvent => ({
  type: 'block',
  block: b,
  source,
  nowMs,
})

/** A fork from `ancestor` on our chain `main`, with our blocks up to `ourHeight`. */
const holding = (ancestor: number, ourHeight: number): ForkState =>
  startFork(ancestor === 0 ? genesis : at(ancestor), headers(main.slice(ancestor, ourHeight)))

/** A fork of `length` blocks on main's block at `ancestor`, whose first block sorts `rank` ours. */
function forkOf(ancestor: number, length: number, rank: 'before' | 'after'): Block[] {
  const parent = ancestor === 0 ? genesis : at(ancestor)
  for (let n = 0; ; n++) {
    const fork = buildChain(parent, length, { tag: `fork-${n}` })
    const order = compareBlocks(fork[0]!.block_header, at(ancestor + 1).block_header, params)
    if (order < 0 === (rank === 'before')) return fork
  }
}

interface Row {
  name: string
  state: ForkState
  events: ForkEvent[]
  kind: ForkState['kind']
  effects: ForkEffect['type'][]
  check?: (state: ForkState, effects: readonly ForkEffect[]) => void
}

function run(state: ForkState, events: readonly ForkEvent[], stepRules = rules) {
  const effects: ForkEffect[] = []
  for (const event of events) {
    const step = stepFork(state, event, stepRules)
    state = step.state
    effects.push(...step.effects)
  }
  return { state, effects }
}

const longer = forkOf(10, 6, 'after')
const winsAtEqualLength = forkOf(10, 5, 'before')
const losesAtEqualLength = forkOf(10, 5, 'after')
const sameRound = nextBlock(at(5), { step: 0, producer: 'liar' })
const farFuture = nextBlock(at(5), { step: 20 })
const notLinked = forkOf(4, 1, 'after')[0]!

const rows: Row[] = [
  {
    name: 'extending + a valid block of an ended round: appended, the next links to it',
    state: startFork(at(5), []),
    events: [block(at(6)), block(at(7), HELPER)],
    kind: 'extending',
    effects: ['append', 'append'],
    check: (state) => expect(state.kind === 'extending' && state.parent).toBe(at(7)),
  },
  {
    name: 'extending + a block of another fork from a helper: skipped, no offence, fetched again',
    state: startFork(at(5), []),
    events: [block(notLinked, HELPER)],
    kind: 'extending',
    effects: ['skip', 'refetch'],
    check: (_state, effects) =>
      expect(effects[1]).toEqual({ type: 'refetch', height: 5, source: HELPER }),
  },
  {
    name: 'extending + a block of another fork from the target: the download ends',
    state: startFork(at(5), []),
    events: [block(notLinked)],
    kind: 'ended',
    effects: ['skip'],
    check: (state) => expect(state.kind === 'ended' && state.end.reason).toBe('BAD_TARGET_BLOCK'),
  },
  {
    name: 'extending + a linked block in its parent round from a helper: penalised, fetched again',
    state: startFork(at(5), []),
    events: [block(sameRound, HELPER)],
    kind: 'extending',
    effects: ['penalise', 'refetch'],
  },
  {
    name: 'extending + a block more than 15 s ahead of the clock: penalised',
    state: startFork(at(5), []),
    events: [block(farFuture, HELPER, roundEnd(5, params))],
    kind: 'extending',
    effects: ['penalise', 'refetch'],
  },
  {
    name: 'extending + a timely block of a round that has not ended: not confirmed, retried at its end',
    state: startFork(at(5), []),
    events: [block(at(6), TARGET, roundEnd(6, params) - 1)],
    kind: 'ended',
    effects: [],
    check: (state) =>
      expect(state.kind === 'ended' && state.end).toEqual({
        reason: 'UNCONFIRMABLE',
        height: 6,
        retryAtMs: roundEnd(roundOf(at(6).block_header.timestamp, params), params),
      }),
  },
  {
    name: 'holdingFork + blocks that do not yet outnumber ours: held, nothing written',
    state: holding(10, 15),
    events: longer.slice(0, 5).map((b) => block(b)),
    kind: 'holdingFork',
    effects: [],
    check: (state) =>
      expect(state.kind === 'holdingFork' && state.held).toEqual(longer.slice(0, 5)),
  },
  {
    name: 'holdingFork + the block that makes the fork longer: one reorg of every held block',
    state: holding(10, 15),
    events: longer.map((b) => block(b)),
    kind: 'reorged',
    effects: ['reorg'],
    check: (_state, effects) =>
      expect(effects[0]).toEqual({ type: 'reorg', ancestor: 10, blocks: longer }),
  },
  {
    name: 'holdingFork + equal length, higher priority at the first differing height: reorg',
    state: holding(10, 15),
    events: winsAtEqualLength.map((b) => block(b)),
    kind: 'reorged',
    effects: ['reorg'],
  },
  {
    name: 'holdingFork + equal length, lower priority at the first differing height: kept holding',
    state: holding(10, 15),
    events: losesAtEqualLength.map((b) => block(b)),
    kind: 'holdingFork',
    effects: [],
  },
  {
    name: 'reorged + the next block: appended',
    state: { kind: 'reorged', ancestor: 10, parent: longer.at(-1)! },
    events: [block(nextBlock(longer.at(-1)!, { tag: 'next' }))],
    kind: 'reorged',
    effects: ['append'],
  },
  {
    name: 'holdingFork + a block we hold ourselves: the fork point moves up',
    state: holding(10, 15),
    events: [block(at(11)), block(at(12))],
    kind: 'holdingFork',
    effects: [],
    check: (state) =>
      expect(state.kind === 'holdingFork' && [state.ancestor, state.ours.length]).toEqual([12, 3]),
  },
  {
    name: 'holdingFork + every block we hold: extending again',
    state: holding(10, 12),
    events: [block(at(11)), block(at(12)), block(at(13))],
    kind: 'extending',
    effects: ['append'],
  },
  {
    name: 'holdingFork + more blocks than may be held: the download ends',
    state: holding(0, 12),
    events: forkOf(0, 9, 'after').map((b) => block(b)),
    kind: 'ended',
    effects: [],
    check: (state) => expect(state.kind === 'ended' && state.end.reason).toBe('TOO_DEEP'),
  },
  {
    name: 'holdingFork + our chain grows meanwhile: the fork must now beat the longer chain',
    state: holding(10, 15),
    events: [
      { type: 'ourBlocks', headers: headers(main.slice(15, 16)) },
      ...longer.map((b) => block(b)),
    ],
    kind: 'holdingFork',
    effects: [],
  },
  {
    name: 'extending + our chain grows past our last write: a fork from there',
    state: startFork(at(10), []),
    events: [{ type: 'ourBlocks', headers: headers(main.slice(10, 12)) }],
    kind: 'holdingFork',
    effects: [],
    check: (state) =>
      expect(state.kind === 'holdingFork' && [state.ancestor, state.ours.length]).toEqual([10, 2]),
  },
  {
    name: 'ended + any event: nothing',
    state: { kind: 'ended', end: { reason: 'TOO_DEEP', maxHeld: 8 } },
    events: [block(at(1)), { type: 'ourBlocks', headers: headers([at(1)]) }],
    kind: 'ended',
    effects: [],
  },
]

describe('fork download: (state, event) -> (state, effects)', () => {
  it.each(rows)('$name', (row) => {
    const { state, effects } = run(row.state, row.events)
    expect(state.kind).toBe(row.kind)
    expect(effects.map((e) => e.type)).toEqual(row.effects)
    row.check?.(state, effects)
  })

  it('counts only blocks of ended rounds: a fork longer thanks to the current round is not better', () => {
    // Ours and the fork share block 5; ours has 6-10 (rounds 6-10), the fork 6-11.
    const fork = forkOf(5, 6, 'after')
    const now = roundEnd(roundOf(fork[4]!.block_header.timestamp, params), params)
    // Five fork blocks are confirmable, the sixth is of the current round.
    const { state, effects } = run(
      holding(5, 10),
      fork.map((b) => block(b, TARGET, now)),
    )
    expect(effects).toEqual([])
    expect(state.kind === 'ended' && state.end.reason).toBe('UNCONFIRMABLE')
  })

  it('orders equal-length forks in a permissioned network by the in-turn rule, not the hash alone', () => {
    const producers = ['a'.repeat(64), 'b'.repeat(64)]
    const network: NetworkParams = { ...params, producers }
    const parent = at(10)
    const round = roundOf(parent.block_header.timestamp, network) + 1
    const inTurn = producers[round % 2]!
    const outOfTurn = producers[(round + 1) % 2]!
    // Grind an in-turn block whose hash is larger than the out-of-turn one's.
    const theirs = nextBlock(parent, { producer: outOfTurn, tag: 'out' })
    let ours: Block
    for (let n = 0; ; n++) {
      ours = nextBlock(parent, { producer: inTurn, tag: `in-${n}` })
      if (ours.block_header.hash > theirs.block_header.hash) break
    }
    const state = startFork(parent, [ours.block_header])
    const permissioned = run(state, [block(theirs)], { ...rules, network })
    expect(permissioned.state.kind).toBe('holdingFork')
    // The same two blocks in an open network: the smaller hash wins, so theirs.
    const open = run(startFork(parent, [ours.block_header]), [block(theirs)])
    expect(open.state.kind).toBe('reorged')
  })
})
