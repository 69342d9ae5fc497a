import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FetchTracker } from '../src/fetch-tracker.js'

const hash = 'a'.repeat(64)

describe('FetchTracker', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('asks only the first announcer; the others learn BLOCK_KNOWN once the block arrives', async () => {
    const tracker = new FetchTracker({ timeoutMs: 1000, maxFetches: 16, maxHoldMs: 1000 })
    expect(tracker.announce(hash, 'a:1')).toBe('wanted')
    const second = tracker.announce(hash, 'b:1')
    const third = tracker.announce(hash, 'c:1')
    tracker.arrived(hash)
    expect(await second).toBe('known')
    expect(await third).toBe('known')
    expect(tracker.size).toBe(0)
  })

  it('falls back to the next announcer when the first does not deliver in time', async () => {
    const tracker = new FetchTracker({ timeoutMs: 1000, maxFetches: 16, maxHoldMs: 1000 })
    tracker.announce(hash, 'a:1')
    let answer: string | undefined
    void (tracker.announce(hash, 'b:1') as Promise<string>).then((a) => (answer = a))
    await vi.advanceTimersByTimeAsync(999)
    expect(answer).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(answer).toBe('wanted')
    // A third announcer waits on the second's attempt now.
    const third = tracker.announce(hash, 'c:1')
    tracker.arrived(hash)
    expect(await third).toBe('known')
  })

  it('hands over at once when the source disconnects', async () => {
    const tracker = new FetchTracker({ timeoutMs: 1000, maxFetches: 16, maxHoldMs: 1000 })
    tracker.announce(hash, 'a:1')
    const second = tracker.announce(hash, 'b:1')
    tracker.forget('a:1')
    expect(await second).toBe('wanted')
  })

  it('a repeated announcement from the source is wanted again, not queued behind itself', () => {
    const tracker = new FetchTracker({ timeoutMs: 1000, maxFetches: 16, maxHoldMs: 1000 })
    tracker.announce(hash, 'a:1')
    expect(tracker.announce(hash, 'a:1')).toBe('wanted')
  })

  it('stops tracking at the cap: floods of random hashes cost no memory', () => {
    const tracker = new FetchTracker({ timeoutMs: 1000, maxFetches: 2 })
    for (let i = 0; i < 100; i++)
      expect(tracker.announce(i.toString(16).padStart(64, '0'), 'x:1')).toBe('wanted')
    expect(tracker.size).toBe(2)
  })

  it('never holds an answer past maxHoldMs, however many announced first (item 11)', async () => {
    const tracker = new FetchTracker({ timeoutMs: 1000, maxFetches: 16, maxHoldMs: 200 })
    // Twelve strangers announce first and never deliver.
    expect(tracker.announce(hash, 'stranger-0')).toBe('wanted')
    for (let i = 1; i < 12; i++) void tracker.announce(hash, `stranger-${i}`)
    let answer: string | undefined
    void (tracker.announce(hash, 'honest') as Promise<string>).then((a) => (answer = a))
    await vi.advanceTimersByTimeAsync(199)
    expect(answer).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(answer).toBe('wanted')
  })

  it('a waiter answered by the hold bound is not asked again when the source times out', async () => {
    const tracker = new FetchTracker({ timeoutMs: 1000, maxFetches: 16, maxHoldMs: 100 })
    tracker.announce(hash, 'a')
    const answers: string[] = []
    void (tracker.announce(hash, 'b') as Promise<string>).then((a) => answers.push(a))
    await vi.advanceTimersByTimeAsync(1000)
    expect(answers).toEqual(['wanted'])
    expect(tracker.size).toBe(0)
  })

  it('defaults the hold bound to 200 ms, never beyond the fetch timeout', () => {
    expect(new FetchTracker({ timeoutMs: 1000, maxFetches: 1 }).maxHoldMs).toBe(200)
    expect(new FetchTracker({ timeoutMs: 50, maxFetches: 1 }).maxHoldMs).toBe(50)
  })
})
