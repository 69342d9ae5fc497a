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
    const tracker = new FetchTracker(1000, 16)
    expect(tracker.announce(hash, 'a:1')).toBe('wanted')
    const second = tracker.announce(hash, 'b:1')
    const third = tracker.announce(hash, 'c:1')
    tracker.arrived(hash)
    expect(await second).toBe('known')
    expect(await third).toBe('known')
    expect(tracker.size).toBe(0)
  })

  it('falls back to the next announcer when the first does not deliver in time', async () => {
    const tracker = new FetchTracker(1000, 16)
    tracker.announce(hash, 'a:1')
    let answer: string | undefined
    void (tracker.announce(hash, 'b:1') as Promise<string>).then((a) => (answer = a))
    const third = tracker.announce(hash, 'c:1')
    await vi.advanceTimersByTimeAsync(999)
    expect(answer).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(answer).toBe('wanted')
    // The third waits on the second's attempt now.
    tracker.arrived(hash)
    expect(await third).toBe('known')
  })

  it('hands over at once when the source disconnects', async () => {
    const tracker = new FetchTracker(1000, 16)
    tracker.announce(hash, 'a:1')
    const second = tracker.announce(hash, 'b:1')
    tracker.forget('a:1')
    expect(await second).toBe('wanted')
  })

  it('a repeated announcement from the source is wanted again, not queued behind itself', () => {
    const tracker = new FetchTracker(1000, 16)
    tracker.announce(hash, 'a:1')
    expect(tracker.announce(hash, 'a:1')).toBe('wanted')
  })

  it('stops tracking at the cap: floods of random hashes cost no memory', () => {
    const tracker = new FetchTracker(1000, 2)
    for (let i = 0; i < 100; i++)
      expect(tracker.announce(i.toString(16).padStart(64, '0'), 'x:1')).toBe('wanted')
    expect(tracker.size).toBe(2)
  })
})
