// The dial state machine as a table: (state, event) -> state, on a fake clock.
import { describe, expect, it } from 'vitest'
import { type DialEvent, type DialState, nextDialState } from '../src/index.js'

const limits = { reconnectMinMs: 100, reconnectMaxMs: 1_000 }
const clock = { now: 10_000, random: 0.5 }
const idle: DialState = { state: 'idle' }
const dialing = (attempts = 0): DialState => ({ state: 'dialing', attempts })
const connected: DialState = { state: 'connected', peerId: 'k' }
const backoff = (attempts: number, retryAt: number, banned = false): DialState => ({
  state: 'backoff',
  attempts,
  retryAt,
  banned,
})

// The delay is min(max, min * 2^attempts) * (0.5 + random / 2): 0.75 of the base at random 0.5.
const table: [string, DialState, DialEvent, DialState][] = [
  ['idle, dial', idle, { type: 'dial' }, dialing(0)],
  ['dialing, dial again: stays', dialing(2), { type: 'dial' }, dialing(2)],
  ['dialing, connected', dialing(3), { type: 'connected', peerId: 'k' }, connected],
  ['dialing, failed: first backoff', dialing(0), { type: 'failed' }, backoff(1, 10_075)],
  ['dialing, failed again: doubles', dialing(2), { type: 'failed' }, backoff(3, 10_300)],
  ['dialing, failed many times: capped', dialing(9), { type: 'failed' }, backoff(10, 10_750)],
  [
    'dialing, refused: waits out the ban',
    dialing(1),
    { type: 'refused', ms: 5_000 },
    backoff(2, 15_000, true),
  ],
  ['connected, refused', connected, { type: 'refused', ms: 2_000 }, backoff(1, 12_000, true)],
  ['connected, lost: backoff starts over', connected, { type: 'lost' }, backoff(1, 10_075)],
  ['backoff, due', backoff(3, 10_000), { type: 'due' }, dialing(3)],
  ['backoff, dial before due: stays', backoff(3, 11_000), { type: 'dial' }, backoff(3, 11_000)],
  ['idle, lost: stays', idle, { type: 'lost' }, idle],
  ['connected, failed: stays', connected, { type: 'failed' }, connected],
]

describe('nextDialState', () => {
  it.each(table)('%s', (_, state, event, expected) => {
    expect(nextDialState(state, event, clock, limits)).toEqual(expected)
  })
})
