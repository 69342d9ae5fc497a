/**
 * What a sync does with each downloaded block, as a state machine with no
 * I/O: (state, event) -> (state, effects). The engine performs the effects
 * (store writes, re-fetches, penalties). Every rule comes from the codec:
 * validity on the parent, timeliness, confirmability and fork choice.
 */
import {
  type Block,
  type BlockHeader,
  checkValidOnParent,
  compareForks,
  isConfirmable,
  isTimely,
  type NetworkParams,
  roundEnd,
  roundOf,
} from '@chronos/codec'

export type ForkState =
  /** The downloaded blocks extend our chain: each is appended. */
  | { readonly kind: 'extending'; readonly parent: Block }
  /**
   * The downloaded blocks are a fork from `ancestor` that does not beat our
   * chain yet; they are held in memory. `ours` is our chain after the ancestor.
   */
  | {
      readonly kind: 'holdingFork'
      readonly ancestor: number
      readonly parent: Block
      /** Owned by this state: a step appends to it rather than copy 10,000 blocks per block. */
      readonly held: Block[]
      readonly heldHeaders: BlockHeader[]
      readonly ours: BlockHeader[]
    }
  /** The fork won: our suffix after `ancestor` was replaced; later blocks are appended. */
  | { readonly kind: 'reorged'; readonly ancestor: number; readonly parent: Block }
  /** The download stops here. */
  | { readonly kind: 'ended'; readonly end: ForkEnd }

export type ForkEnd =
  /** The peer we sync with served a bad block: its chain is not to be followed. */
  | { readonly reason: 'BAD_TARGET_BLOCK'; readonly message: string }
  /** The fork needs more blocks held than allowed before it could win. */
  | { readonly reason: 'TOO_DEEP'; readonly maxHeld: number }
  /**
   * The next block's round has not ended by our clock: it cannot be
   * confirmed, nor counted by fork choice, before `retryAtMs` (section 6).
   */
  | { readonly reason: 'UNCONFIRMABLE'; readonly height: number; readonly retryAtMs: number }

export type ForkEvent =
  /** The next block in height order, from `source`. */
  | {
      readonly type: 'block'
      readonly block: Block
      readonly source: string
      readonly nowMs: number
    }
  /** Our own chain grew during the download (gossip confirmed these, in order). */
  | { readonly type: 'ourBlocks'; readonly headers: readonly BlockHeader[] }

export type ForkEffect =
  | { readonly type: 'append'; readonly block: Block }
  | { readonly type: 'reorg'; readonly ancestor: number; readonly blocks: readonly Block[] }
  /** Fetch `height` again from someone other than `source`. */
  | { readonly type: 'refetch'; readonly height: number; readonly source: string }
  /** `source` served a linked block that breaks the rules: an offence. */
  | { readonly type: 'penalise'; readonly source: string; readonly problem: string }
  /** `source` served a block of another fork (it does not link): no offence. */
  | {
      readonly type: 'skip'
      readonly source: string
      readonly height: number
      readonly problem: string
    }

export interface ForkRules {
  readonly network: NetworkParams
  /** The peer the sync follows; a bad block from it ends the download. */
  readonly target: string
  /** Blocks held for one fork before giving up on it. */
  readonly maxHeld: number
}

export interface Step {
  readonly state: ForkState
  readonly effects: readonly ForkEffect[]
}

/** Where a download from `ancestor` begins: extending, or holding a fork against `ours`. */
export function startFork(ancestor: Block, ours: readonly BlockHeader[]): ForkState {
  if (ours.length === 0) return { kind: 'extending', parent: ancestor }
  return {
    kind: 'holdingFork',
    ancestor: ancestor.block_header.height,
    parent: ancestor,
    held: [],
    heldHeaders: [],
    ours: [...ours],
  }
}

export function stepFork(state: ForkState, event: ForkEvent, rules: ForkRules): Step {
  if (state.kind === 'ended') return { state, effects: [] }
  if (event.type === 'ourBlocks') return { state: ourChainGrew(state, event.headers), effects: [] }
  const { block, source, nowMs } = event
  const height = block.block_header.height
  const problem = problemWith(block, state.parent, nowMs, rules.network)
  if (problem) {
    const report: ForkEffect = problem.offence
      ? { type: 'penalise', source, problem: problem.message }
      : { type: 'skip', source, height, problem: problem.message }
    if (source === rules.target)
      return {
        state: {
          kind: 'ended',
          end: {
            reason: 'BAD_TARGET_BLOCK',
            message: `${source} served a bad block: ${problem.message}`,
          },
        },
        effects: [report],
      }
    return { state, effects: [report, { type: 'refetch', height, source }] }
  }
  if (!isConfirmable(block, nowMs, rules.network)) {
    const retryAtMs = roundEnd(roundOf(block.block_header.timestamp, rules.network), rules.network)
    return {
      state: { kind: 'ended', end: { reason: 'UNCONFIRMABLE', height, retryAtMs } },
      effects: [],
    }
  }
  if (state.kind !== 'holdingFork')
    return { state: { ...state, parent: block }, effects: [{ type: 'append', block }] }
  return holdBlock(state, block, rules)
}

function holdBlock(
  state: Extract<ForkState, { kind: 'holdingFork' }>,
  block: Block,
  rules: ForkRules,
): Step {
  // A block we hold ourselves at that height: the chains share it, the fork starts later.
  if (state.held.length === 0 && block.block_header.hash === state.ours[0]?.hash) {
    const ours = state.ours.slice(1)
    if (ours.length === 0) return { state: { kind: 'extending', parent: block }, effects: [] }
    return {
      state: { ...state, ancestor: block.block_header.height, parent: block, ours },
      effects: [],
    }
  }
  state.held.push(block)
  state.heldHeaders.push(block.block_header)
  if (state.held.length > rules.maxHeld)
    return {
      state: { kind: 'ended', end: { reason: 'TOO_DEEP', maxHeld: rules.maxHeld } },
      effects: [],
    }
  if (compareForks(state.heldHeaders, state.ours, rules.network) < 0)
    return {
      state: { kind: 'reorged', ancestor: state.ancestor, parent: block },
      effects: [{ type: 'reorg', ancestor: state.ancestor, blocks: state.held }],
    }
  return { state: { ...state, parent: block }, effects: [] }
}

function ourChainGrew(
  state: Exclude<ForkState, { kind: 'ended' }>,
  headers: readonly BlockHeader[],
): ForkState {
  if (headers.length === 0) return state
  if (state.kind === 'holdingFork') {
    state.ours.push(...headers)
    return state
  }
  // Our chain moved past the last block we wrote: what comes next is a fork from there.
  return startFork(state.parent, headers)
}

function problemWith(
  block: Block,
  parent: Block,
  nowMs: number,
  network: NetworkParams,
): { message: string; offence: boolean } | undefined {
  if (!isTimely(block, nowMs))
    return { message: `block ${block.block_header.height} is too far in the future`, offence: true }
  const check = checkValidOnParent(block, parent, network)
  if (check.ok) return undefined
  // Another fork's block does not link: not a fault. A linked block that breaks the rules is.
  return { message: check.message, offence: check.reason !== 'PREV_HASH' }
}
