// The planner as tables: (memory, claims, clock) -> sync | wait | idle, and
// memory events -> memory, on a fake clock, no sockets.
import { maxPossibleHeight, roundStart } from '@chronos/codec'
import { describe, expect, it } from 'vitest'
import {
  type Claim,
  isBehind,
  type PeerView,
  type Plan,
  PlannerMemory,
  plan,
} from '../src/planner.js'
import { params } from './helpers.js'

const GRACE = 250
/** Half way through round 1,000: heights up to 1,001 are possible. */
const NOW = roundStart(1000, params) + 500
const OURS = { height: 100, head: 'a'.repeat(64) }
const h = (c: string) => c.repeat(64)
const BACKOFF = { baseMs: 2000, maxMs: 7000 }

type Setup = (memory: PlannerMemory) => void
interface Row {
  name: string
  peers: PeerView[]
  memory?: Setup
  nowMs?: number
  expected: Plan
}

/** `head: null` for a Status without one. */
const peer = (id: string, height: number, head: string | null = h('f')): PeerView => ({
  id,
  claim: { height, head: head ?? undefined },
})
/** Seen long enough ago that no grace applies. */
const seenEarlier =
  (...views: PeerView[]): Setup =>
  (memory) => {
    for (const view of views) memory.observe(view.id, view.claim, NOW - 10_000)
  }

const rows: Row[] = [
  { name: 'no peers: idle', peers: [], expected: { kind: 'idle' } },
  {
    name: 'a peer at our height and head: idle',
    peers: [peer('p', 100, OURS.head)],
    expected: { kind: 'idle' },
  },
  {
    name: 'a peer at our height with another head: sync (the chains diverged)',
    peers: [peer('p', 100, h('b'))],
    expected: { kind: 'sync', peer: 'p', claim: { height: 100, head: h('b') } },
  },
  {
    name: 'a peer at our height without a head: idle (nothing says it diverged)',
    peers: [peer('p', 100, null)],
    expected: { kind: 'idle' },
  },
  {
    name: 'a peer behind us: idle',
    peers: [peer('p', 90)],
    expected: { kind: 'idle' },
  },
  {
    name: 'the highest claim is tried first',
    peers: [peer('p', 150), peer('q', 180), peer('r', 120)],
    expected: { kind: 'sync', peer: 'q', claim: { height: 180, head: h('f') } },
  },
  {
    name: 'a peer one block ahead, just seen: wait out the grace',
    peers: [peer('p', 101)],
    expected: { kind: 'wait', untilMs: NOW + GRACE },
  },
  {
    name: 'a peer one block ahead, seen before the grace: sync',
    peers: [peer('p', 101)],
    memory: seenEarlier(peer('p', 101)),
    expected: { kind: 'sync', peer: 'p', claim: { height: 101, head: h('f') } },
  },
  {
    name: 'a one-ahead peer in its grace does not hold back one further ahead',
    peers: [peer('p', 101), peer('q', 105)],
    expected: { kind: 'sync', peer: 'q', claim: { height: 105, head: h('f') } },
  },
  {
    name: 'a one-ahead peer with a new head starts a new grace',
    peers: [peer('p', 101, h('c'))],
    memory: seenEarlier(peer('p', 101, h('b'))),
    expected: { kind: 'wait', untilMs: NOW + GRACE },
  },
  {
    name: 'a hinted one-ahead peer: sync now',
    peers: [peer('p', 101)],
    memory: (m) => m.hint('p'),
    expected: { kind: 'sync', peer: 'p', claim: { height: 101, head: h('f') } },
  },
  {
    name: 'a hinted peer at our height and head: sync (gossip says it has more)',
    peers: [peer('p', 100, OURS.head)],
    memory: (m) => m.hint('p'),
    expected: { kind: 'sync', peer: 'p', claim: { height: 100, head: OURS.head } },
  },
  {
    name: 'a rejected claim: skipped',
    peers: [peer('p', 150)],
    memory: (m) => m.reject('p', { height: 150, head: h('f') }),
    expected: { kind: 'idle' },
  },
  {
    name: 'a rejected claim without a head: skipped too',
    peers: [peer('p', 150, null)],
    memory: (m) => m.reject('p', { height: 150, head: undefined }),
    expected: { kind: 'idle' },
  },
  {
    name: 'a rejected peer that claims more: tried again',
    peers: [peer('p', 151, null)],
    memory: (m) => m.reject('p', { height: 150, head: undefined }),
    expected: { kind: 'sync', peer: 'p', claim: { height: 151, head: undefined } },
  },
  {
    name: 'a rejected peer then hinted: tried again',
    peers: [peer('p', 150)],
    memory: (m) => {
      m.reject('p', { height: 150, head: h('f') })
      m.hint('p')
    },
    expected: { kind: 'sync', peer: 'p', claim: { height: 150, head: h('f') } },
  },
  {
    name: 'a height above the current round + 1 (2^53-1, no head): never acted on',
    peers: [peer('liar', Number.MAX_SAFE_INTEGER, null)],
    expected: { kind: 'idle' },
  },
  {
    name: 'an impossible claim does not hide an honest one',
    peers: [peer('liar', maxPossibleHeight(NOW, params) + 1), peer('p', 120)],
    expected: { kind: 'sync', peer: 'p', claim: { height: 120, head: h('f') } },
  },
  {
    name: 'the highest possible height is acted on',
    peers: [peer('p', maxPossibleHeight(NOW, params))],
    expected: {
      kind: 'sync',
      peer: 'p',
      claim: { height: maxPossibleHeight(NOW, params), head: h('f') },
    },
  },
  {
    name: 'a peer deferred to a round end: wait until then',
    peers: [peer('p', 150)],
    memory: (m) => m.defer('p', NOW + 400),
    expected: { kind: 'wait', untilMs: NOW + 400 },
  },
  {
    name: 'a peer deferred to a round end, once it has passed: sync',
    peers: [peer('p', 150)],
    memory: (m) => m.defer('p', NOW - 1),
    expected: { kind: 'sync', peer: 'p', claim: { height: 150, head: h('f') } },
  },
  {
    name: 'the earliest of several waits',
    peers: [peer('p', 150), peer('q', 101)],
    memory: (m) => m.defer('p', NOW + 400),
    expected: { kind: 'wait', untilMs: NOW + GRACE },
  },
  {
    name: 'a claim whose sync failed with the connection: wait for its retry',
    peers: [peer('p', 150)],
    memory: (m) => m.fail('p', { height: 150, head: h('f') }, NOW - 500, BACKOFF),
    expected: { kind: 'wait', untilMs: NOW + 1500 },
  },
  {
    name: 'a claim whose sync failed with the connection, its retry due: sync again',
    peers: [peer('p', 150)],
    memory: (m) => m.fail('p', { height: 150, head: h('f') }, NOW - 2000, BACKOFF),
    expected: { kind: 'sync', peer: 'p', claim: { height: 150, head: h('f') } },
  },
  {
    name: 'a peer whose other claim failed: sync now',
    peers: [peer('p', 151)],
    memory: (m) => m.fail('p', { height: 150, head: h('f') }, NOW - 500, BACKOFF),
    expected: { kind: 'sync', peer: 'p', claim: { height: 151, head: h('f') } },
  },
  {
    name: 'a fresh claim goes before a due retry of a higher one (a liar must not push honest peers aside)',
    peers: [peer('liar', 1001), peer('p', 150)],
    memory: (m) => m.fail('liar', { height: 1001, head: h('f') }, NOW - 60_000, BACKOFF),
    expected: { kind: 'sync', peer: 'p', claim: { height: 150, head: h('f') } },
  },
]

describe('planner: (memory, claims, clock) -> plan', () => {
  it.each(rows)('$name', (row) => {
    const memory = new PlannerMemory()
    row.memory?.(memory)
    const nowMs = row.nowMs ?? NOW
    for (const view of row.peers) memory.observe(view.id, view.claim, nowMs)
    const decision = plan({
      ours: OURS,
      peers: row.peers,
      memory,
      nowMs,
      clock: params,
      oneAheadGraceMs: GRACE,
    })
    expect(decision).toEqual(row.expected)
  })
})

describe('planner memory', () => {
  const claim: Claim = { height: 5, head: h('1') }

  it('keeps when a claim was first seen until the claim changes', () => {
    const memory = new PlannerMemory()
    memory.observe('p', claim, 10)
    memory.observe('p', { ...claim }, 20)
    expect(memory.get('p')?.since).toBe(10)
    memory.observe('p', { height: 6, head: h('1') }, 30)
    expect(memory.get('p')?.since).toBe(30)
  })

  it('a hint clears a rejection; starting the sync clears the hint', () => {
    const memory = new PlannerMemory()
    memory.reject('p', claim)
    memory.hint('p')
    expect(memory.get('p')).toMatchObject({ hinted: true, rejected: undefined })
    memory.started('p')
    expect(memory.get('p')?.hinted).toBe(false)
  })

  it('is bounded: past maxPeers the least recently touched peer goes', () => {
    const memory = new PlannerMemory(3)
    for (const id of ['a', 'b', 'c']) memory.hint(id)
    memory.reject('a', claim)
    memory.hint('d')
    expect(memory.size).toBe(3)
    expect(memory.get('b')).toBeUndefined()
    expect(memory.get('a')?.rejected).toEqual(claim)
  })

  it('retries a failed claim after a backoff that doubles per failure of that claim, up to its bound', () => {
    const memory = new PlannerMemory()
    const retryAt = () => memory.get('p')?.failed?.retryAtMs
    memory.fail('p', claim, 0, BACKOFF)
    expect(retryAt()).toBe(2000)
    memory.fail('p', claim, 10_000, BACKOFF)
    expect(retryAt()).toBe(14_000)
    memory.fail('p', claim, 20_000, BACKOFF)
    expect(retryAt()).toBe(27_000)
    expect(memory.hasFailed('p', claim)).toBe(true)
    // Another claim starts over, and the old one no longer counts as failed.
    const other = { height: 6, head: h('2') }
    memory.fail('p', other, 30_000, BACKOFF)
    expect(memory.get('p')?.failed).toEqual({ claim: other, attempts: 1, retryAtMs: 32_000 })
    expect(memory.hasFailed('p', claim)).toBe(false)
  })

  it('forgets a peer', () => {
    const memory = new PlannerMemory()
    memory.hint('p')
    memory.forget('p')
    expect(memory.get('p')).toBeUndefined()
  })

  it("keeps departed peers' verdicts apart: they never push a connected peer's out", () => {
    const memory = new PlannerMemory(2)
    memory.observe('a', claim, 0)
    memory.fail('a', claim, 0, BACKOFF)
    // Identities that come, get rejected and go, more than the bound.
    for (const id of ['x', 'y', 'z']) {
      memory.observe(id, claim, 0)
      memory.reject(id, claim)
      memory.forget(id)
    }
    expect(memory.hasFailed('a', claim)).toBe(true)
    expect(memory.departedSize).toBe(2)
    expect(memory.isRejected('x', claim)).toBe(false)
    expect(memory.isRejected('z', claim)).toBe(true)
    // A verdict reached after the disconnect stays with the departed; reconnecting brings it back.
    memory.reject('y', { height: 7, head: h('4') })
    expect(memory.size).toBe(1)
    memory.observe('y', claim, 50)
    expect(memory.size).toBe(2)
    expect(memory.departedSize).toBe(1)
    expect(memory.get('y')).toMatchObject({
      claim,
      since: 50,
      rejected: { height: 7, head: h('4') },
    })
  })

  it('keeps what it judged of a disconnected peer, and only that, so reconnecting changes nothing', () => {
    const memory = new PlannerMemory()
    const failedClaim = { height: 9, head: h('3') }
    memory.observe('p', claim, 10)
    memory.reject('p', claim)
    memory.fail('p', failedClaim, 0, BACKOFF)
    memory.hint('q')
    memory.defer('p', 99)
    memory.forget('p')
    memory.forget('q')
    expect(memory.get('q')).toBeUndefined()
    expect(memory.get('p')).toMatchObject({ claim: undefined, notBefore: undefined, hinted: false })
    expect(memory.isRejected('p', claim)).toBe(true)
    expect(memory.hasFailed('p', failedClaim)).toBe(true)
    // The backoff goes on doubling across the reconnect.
    memory.fail('p', failedClaim, 10_000, BACKOFF)
    expect(memory.get('p')?.failed?.attempts).toBe(2)
  })
})

describe('isBehind: whether a claim may hold back production', () => {
  const behind = (peers: PeerView[], setup?: Setup) => {
    const memory = new PlannerMemory()
    setup?.(memory)
    return isBehind({ ours: OURS, peers, memory, nowMs: NOW, clock: params })
  }
  it.each([
    { name: 'a peer one block ahead', peers: [peer('p', 101)], expected: true },
    { name: 'a peer at our height', peers: [peer('p', 100, h('b'))], expected: false },
    {
      name: 'a height above the current round + 1',
      peers: [peer('liar', Number.MAX_SAFE_INTEGER, null)],
      expected: false,
    },
    {
      name: 'a claim already found false or not better',
      peers: [peer('p', 150, null)],
      setup: (m: PlannerMemory) => m.reject('p', { height: 150, head: undefined }),
      expected: false,
    },
    {
      name: 'a claim whose sync failed with the connection, even with its retry due',
      peers: [peer('p', 150)],
      setup: (m: PlannerMemory) =>
        m.fail('p', { height: 150, head: h('f') }, NOW - 60_000, BACKOFF),
      expected: false,
    },
    {
      name: 'a chain whose next block is of a round that has not ended',
      peers: [peer('p', 150)],
      setup: (m: PlannerMemory) => m.defer('p', NOW + 400),
      expected: false,
    },
  ])('$name: $expected', ({ peers, setup, expected }) => {
    expect(behind(peers, setup)).toBe(expected)
  })
})
