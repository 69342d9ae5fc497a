import type { ServerMessage } from '../../src/protocol.ts'

/**
 * The page's check of the bridge protocol's `seq`: a snapshot carries the
 * seq it is current at, and each delta the next one. A delta that is not
 * the next means the page missed an update; its state can no longer be
 * trusted, so it drops deltas and asks for a new snapshot (once) until one
 * arrives. Pongs carry the current seq but are not updates.
 */
export type SequenceState =
  | { kind: 'waiting' }
  | { kind: 'in-step'; seq: number }
  | { kind: 'resyncing' }

export type SequenceVerdict = 'apply' | 'ignore' | 'resubscribe'

export function sequence(
  state: SequenceState,
  message: ServerMessage,
): { state: SequenceState; verdict: SequenceVerdict } {
  if (message.type === 'pong') return { state, verdict: 'ignore' }
  if (message.type === 'snapshot')
    return { state: { kind: 'in-step', seq: message.seq }, verdict: 'apply' }
  if (state.kind === 'in-step' && message.seq === state.seq + 1)
    return { state: { kind: 'in-step', seq: message.seq }, verdict: 'apply' }
  // A delta before any snapshot, or while a new one is on its way: nothing to apply it to.
  if (state.kind !== 'in-step') return { state, verdict: 'ignore' }
  // An old delta that arrived late (seq not ahead) changes nothing we trust; a jump is a gap.
  if (message.seq <= state.seq) return { state, verdict: 'ignore' }
  return { state: { kind: 'resyncing' }, verdict: 'resubscribe' }
}
