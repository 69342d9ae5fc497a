// Table tests of the round machine: (phase, event) -> (phase, effects). No sockets, no clock.
import { type Block, createBlock, createGenesis } from '@chronos/codec'
import { describe, expect, it } from 'vitest'
import { openRound, type RoundPhase, type RoundRules, step } from '../src/round.js'

const genesis = createGenesis({ network: 'round-test', roundMs: 1000, timestamp: 1_000 })
const head = genesis.block_header.hash
const child = (tag: string, parent: Block = genesis): Block =>
  createBlock({
    height: parent.block_header.height + 1,
    prevHash: parent.block_header.hash,
    timestamp: parent.block_header.timestamp + 1,
    producer: tag,
    transactions: [{ tag }],
  })
// Eight candidates on the genesis, best (smallest hash) first.
const ranked = Array.from({ length: 8 }, (_, i) => child(`c${i}`)).sort((a, b) =>
  a.block_header.hash < b.block_header.hash ? -1 : 1,
)
const [best, second, third] = ranked as [Block, Block, Block]
const other = child('other', child('elsewhere'))
const rules: RoundRules = {
  compare: (a, b) => (a.block_header.hash < b.block_header.hash ? -1 : 1),
  maxCandidates: 4,
  maxRelays: 2,
  maxHeld: 1,
}
const open = (overrides: Partial<ReturnType<typeof openRound>> = {}): RoundPhase<string> => ({
  kind: 'open',
  round: { ...openRound(5), ...overrides },
})
const kinds = (effects: { type: string }[]) => effects.map((e) => e.type)

describe('round machine', () => {
  const rows: {
    name: string
    phase: RoundPhase<string>
    event: Parameters<typeof step<string>>[1]
    effects: string[]
    selected?: Block | undefined
    relayed?: number
    kind?: 'open' | 'confirming'
  }[] = [
    {
      name: 'first candidate on head: selected and relayed',
      phase: open(),
      event: { type: 'candidate', block: second, head, exempt: false },
      effects: ['selected', 'relay'],
      selected: second,
      relayed: 1,
    },
    {
      name: 'a worse candidate: kept, not selected, not relayed',
      phase: open({ selected: second, relayed: 1 }),
      event: { type: 'candidate', block: third, head, exempt: false },
      effects: ['not-selected'],
      selected: second,
      relayed: 1,
    },
    {
      name: 'a better candidate past the relay bound: selected, relay suppressed',
      phase: open({ selected: second, relayed: 2 }),
      event: { type: 'candidate', block: best, head, exempt: false },
      effects: ['selected', 'relay-suppressed'],
      selected: best,
      relayed: 2,
    },
    {
      name: 'an exempt (own / in-turn) pick past the bound is still relayed',
      phase: open({ selected: second, relayed: 2 }),
      event: { type: 'candidate', block: best, head, exempt: true },
      effects: ['selected', 'relay'],
      selected: best,
      relayed: 3,
    },
    {
      name: 'round end with a pick on head: confirm it, next round opens',
      phase: open({ selected: best }),
      event: { type: 'end', next: 6, head, confirmable: true },
      effects: ['confirm'],
      kind: 'confirming',
      selected: undefined,
    },
    {
      name: 'round end whose pick no longer extends our head: empty',
      phase: open({ selected: best }),
      event: { type: 'end', next: 6, head: other.block_header.hash, confirmable: true },
      effects: ['empty'],
      kind: 'open',
    },
    {
      name: 'round end whose pick is of a round not yet ended (clock skew): empty, never confirmed',
      phase: open({ selected: best }),
      event: { type: 'end', next: 6, head, confirmable: false },
      effects: ['empty'],
    },
    {
      name: 'round end with nothing: empty',
      phase: open(),
      event: { type: 'end', next: 6, head, confirmable: true },
      effects: ['empty'],
    },
    {
      name: 'arrival while confirming: held',
      phase: { kind: 'confirming', round: openRound(6), pick: best, ended: 5, held: [] },
      event: { type: 'arrived', item: 'x' },
      effects: ['held'],
      kind: 'confirming',
    },
    {
      name: 'arrival while confirming, hold full: refused',
      phase: { kind: 'confirming', round: openRound(6), pick: best, ended: 5, held: ['x'] },
      event: { type: 'arrived', item: 'y' },
      effects: ['hold-full'],
      kind: 'confirming',
    },
    {
      name: 'append done: confirmed, held arrivals replayed, phase open',
      phase: { kind: 'confirming', round: openRound(6), pick: best, ended: 5, held: ['x'] },
      event: { type: 'appended', ok: true },
      effects: ['confirmed', 'replay'],
      kind: 'open',
    },
    {
      name: 'append failed: empty round, phase open',
      phase: { kind: 'confirming', round: openRound(6), pick: best, ended: 5, held: [] },
      event: { type: 'appended', ok: false },
      effects: ['empty'],
      kind: 'open',
    },
    {
      name: 'candidate while confirming: ignored (the engine holds arrivals instead)',
      phase: { kind: 'confirming', round: openRound(6), pick: best, ended: 5, held: [] },
      event: { type: 'candidate', block: best, head, exempt: false },
      effects: ['ignored'],
      kind: 'confirming',
    },
    {
      name: 'head moved to where no kept candidate fits: no pick',
      phase: open({ selected: best, candidates: new Map([[best.block_header.hash, best]]) }),
      event: { type: 'head', head: other.block_header.hash },
      effects: [],
      selected: undefined,
    },
    {
      name: 'head moved back: the best kept candidate on it is picked and relayed',
      phase: open({
        candidates: new Map([
          [third.block_header.hash, third],
          [second.block_header.hash, second],
        ]),
      }),
      event: { type: 'head', head },
      effects: ['selected', 'relay'],
      selected: second,
      relayed: 1,
    },
  ]
  for (const row of rows) {
    it(row.name, () => {
      const { phase, effects } = step(row.phase, row.event, rules)
      expect(kinds(effects)).toEqual(row.effects)
      expect(phase.kind).toBe(row.kind ?? 'open')
      if ('selected' in row) expect(phase.round.selected).toBe(row.selected)
      if (row.relayed !== undefined) expect(phase.round.relayed).toBe(row.relayed)
    })
  }

  it('keeps at most maxCandidates, yet a later winner is still selected', () => {
    let phase: RoundPhase<string> = open()
    for (const block of [...ranked].reverse())
      phase = step(phase, { type: 'candidate', block, head, exempt: false }, rules).phase
    expect(phase.round.candidates.size).toBe(4)
    expect(phase.round.selected).toBe(best)
    // 8 candidates arriving best-last: each is a new pick, only 2 relayed (the bound).
    expect([phase.round.relayed, phase.round.suppressed]).toEqual([2, 6])
  })

  it('a descending-priority flood of 1,500 relays exactly maxRelays (item 8)', () => {
    const many = Array.from({ length: 1500 }, (_, i) => child(`s${i}`)).sort((a, b) =>
      a.block_header.hash < b.block_header.hash ? 1 : -1,
    )
    let phase: RoundPhase<string> = open()
    let relays = 0
    for (const block of many) {
      const out = step(
        phase,
        { type: 'candidate', block, head, exempt: false },
        { ...rules, maxRelays: 16 },
      )
      phase = out.phase
      relays += out.effects.filter((e) => e.type === 'relay').length
    }
    expect(relays).toBe(16)
    expect(phase.round.selected).toBe(many.at(-1))
  })

  it('the next round number never goes backwards, and skips to the clock', () => {
    expect(
      step(open(), { type: 'end', next: 3, head, confirmable: true }, rules).phase.round.number,
    ).toBe(6)
    expect(
      step(open(), { type: 'end', next: 9, head, confirmable: true }, rules).phase.round.number,
    ).toBe(9)
  })
})
