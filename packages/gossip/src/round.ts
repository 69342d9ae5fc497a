/**
 * One round of gossip as a value, and the pure machine that moves it
 * (PROTOCOL.md section 7). The engine feeds it events and carries out the
 * effects it returns; nothing here does I/O or reads a clock, so every
 * transition is a row in a table test.
 */
import type { Block } from '@chronos/codec'

/** The current round: its candidates, its pick so far, and how many picks were relayed. */
export interface Round {
  readonly number: number
  /** Valid candidates kept (bounded), by hash: they serve GET_BLOCK and reselection. */
  readonly candidates: ReadonlyMap<string, Block>
  /** The highest-priority candidate on our head so far. */
  readonly selected: Block | undefined
  /** Picks broadcast this round (bounded by `maxRelays`, section 7). */
  readonly relayed: number
  /** Picks that won but were not broadcast because the bound was reached. */
  readonly suppressed: number
}

/** Where the engine is in its round cycle. */
export type RoundPhase<Held> =
  | { readonly kind: 'open'; readonly round: Round }
  /**
   * The previous round's pick is being appended; `round` is already the
   * next one. Arrivals wait in `held` (bounded): their parent is the pick,
   * which is not our head until the append finishes.
   */
  | {
      readonly kind: 'confirming'
      readonly round: Round
      readonly pick: Block
      readonly ended: number
      readonly held: readonly Held[]
    }

export type RoundEvent<Held> =
  /** A block valid on `head`, of the current round. `exempt`: relayed even past the bound (ours, in turn). */
  | {
      readonly type: 'candidate'
      readonly block: Block
      readonly head: string
      readonly exempt: boolean
    }
  /** Something arrived while the pick is being confirmed: hold it for after. */
  | { readonly type: 'arrived'; readonly item: Held }
  /** Our head moved outside of a confirmation (sync): reselect among candidates on the new head. */
  | { readonly type: 'head'; readonly head: string }
  /** The round's end: move to round `next`; `confirmable`: the pick's round has ended (section 6). */
  | {
      readonly type: 'end'
      readonly next: number
      readonly head: string
      readonly confirmable: boolean
    }
  /** The append of the pick finished (`ok`) or failed. */
  | { readonly type: 'appended'; readonly ok: boolean }

export type RoundEffect<Held> =
  | { readonly type: 'selected'; readonly block: Block }
  | { readonly type: 'relay'; readonly block: Block }
  | { readonly type: 'relay-suppressed'; readonly block: Block }
  | { readonly type: 'not-selected'; readonly block: Block }
  | { readonly type: 'confirm'; readonly block: Block; readonly round: number }
  | { readonly type: 'confirmed'; readonly block: Block; readonly round: number }
  | { readonly type: 'empty'; readonly round: number }
  | { readonly type: 'held'; readonly item: Held }
  | { readonly type: 'hold-full'; readonly item: Held }
  | { readonly type: 'replay'; readonly items: readonly Held[] }
  | { readonly type: 'ignored'; readonly event: RoundEvent<Held>['type'] }

export interface RoundRules {
  /** < 0 when a has the higher priority (codec's compareBlocks with the network's parameters). */
  compare(a: Block, b: Block): number
  /** Candidates kept per round. */
  maxCandidates: number
  /** Picks relayed per round (section 7; default 16). */
  maxRelays: number
  /** Arrivals held while a pick is confirmed. */
  maxHeld: number
}

export interface Step<Held> {
  phase: RoundPhase<Held>
  effects: RoundEffect<Held>[]
}

export function openRound(number: number): Round {
  return { number, candidates: new Map(), selected: undefined, relayed: 0, suppressed: 0 }
}

/** The pure transition: (phase, event) -> (phase, effects). */
export function step<Held>(
  phase: RoundPhase<Held>,
  event: RoundEvent<Held>,
  rules: RoundRules,
): Step<Held> {
  switch (event.type) {
    case 'candidate':
      return offer(phase, event.block, event.head, event.exempt, rules)
    case 'arrived': {
      if (phase.kind !== 'confirming') return ignored(phase, event)
      if (phase.held.length >= rules.maxHeld)
        return { phase, effects: [{ type: 'hold-full', item: event.item }] }
      return {
        phase: { ...phase, held: [...phase.held, event.item] },
        effects: [{ type: 'held', item: event.item }],
      }
    }
    case 'head': {
      if (phase.kind !== 'open') return ignored(phase, event)
      return reselect(phase.round, event.head, rules)
    }
    case 'end': {
      if (phase.kind !== 'open') return ignored(phase, event)
      const ended = phase.round
      const next = openRound(Math.max(ended.number + 1, event.next))
      const pick = ended.selected
      if (!pick || !event.confirmable || pick.block_header.prev_hash !== event.head)
        // Nothing picked, or sync moved our head during the round and the pick no longer extends it.
        return {
          phase: { kind: 'open', round: next },
          effects: [{ type: 'empty', round: ended.number }],
        }
      return {
        phase: { kind: 'confirming', round: next, pick, ended: ended.number, held: [] },
        effects: [{ type: 'confirm', block: pick, round: ended.number }],
      }
    }
    case 'appended': {
      if (phase.kind !== 'confirming') return ignored(phase, event)
      const outcome: RoundEffect<Held> = event.ok
        ? { type: 'confirmed', block: phase.pick, round: phase.ended }
        : { type: 'empty', round: phase.ended }
      const effects: RoundEffect<Held>[] = [outcome]
      if (phase.held.length) effects.push({ type: 'replay', items: phase.held })
      return { phase: { kind: 'open', round: phase.round }, effects }
    }
  }
}

function ignored<Held>(phase: RoundPhase<Held>, event: RoundEvent<Held>): Step<Held> {
  return { phase, effects: [{ type: 'ignored', event: event.type }] }
}

function offer<Held>(
  phase: RoundPhase<Held>,
  block: Block,
  head: string,
  exempt: boolean,
  rules: RoundRules,
): Step<Held> {
  if (phase.kind !== 'open') return ignored(phase, { type: 'candidate', block, head, exempt })
  const round = phase.round
  const hash = block.block_header.hash
  // Past the cap the block can still win; it is just not kept for reselection.
  const candidates =
    round.candidates.size < rules.maxCandidates
      ? new Map(round.candidates).set(hash, block)
      : round.candidates
  const current = round.selected
  const wins =
    block.block_header.prev_hash === head &&
    (!current || current.block_header.prev_hash !== head || rules.compare(block, current) < 0)
  if (!wins) {
    return {
      phase: { kind: 'open', round: { ...round, candidates } },
      effects: [{ type: 'not-selected', block }],
    }
  }
  return pick({ ...round, candidates }, block, exempt, rules)
}

/** `block` becomes the pick: relay it unless the round's relay bound is spent. */
function pick<Held>(round: Round, block: Block, exempt: boolean, rules: RoundRules): Step<Held> {
  const relay = exempt || round.relayed < rules.maxRelays
  const next: Round = {
    ...round,
    selected: block,
    relayed: round.relayed + (relay ? 1 : 0),
    suppressed: round.suppressed + (relay ? 0 : 1),
  }
  return {
    phase: { kind: 'open', round: next },
    effects: [
      { type: 'selected', block },
      relay ? { type: 'relay', block } : { type: 'relay-suppressed', block },
    ],
  }
}

/** After our head moved: the best kept candidate on the new head becomes the pick (or none). */
function reselect<Held>(round: Round, head: string, rules: RoundRules): Step<Held> {
  let best: Block | undefined
  for (const block of round.candidates.values())
    if (block.block_header.prev_hash === head && (!best || rules.compare(block, best) < 0))
      best = block
  if (!best)
    return { phase: { kind: 'open', round: { ...round, selected: undefined } }, effects: [] }
  if (best === round.selected) return { phase: { kind: 'open', round }, effects: [] }
  return pick(round, best, false, rules)
}
