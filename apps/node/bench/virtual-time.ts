// A discrete-event clock for simulations that must measure the protocol,
// not the machine. Every timer, Date.now() and performance.now() in the
// process reads one virtual clock; a driver fires the next timer, then lets
// the work it caused run to completion (promise jobs and I/O callbacks,
// through a real setImmediate) before time moves again. CPU work therefore
// takes zero simulated time: thousands of nodes in one thread see the same
// latencies they would on as many machines.
//
// The in-memory transport and memory-level defer work only through timers
// and promise jobs, which is what makes "the work it caused" well defined.
// Real sockets do not belong under this clock.
//
// It was @sinonjs/fake-timers; at 1,000 nodes its bookkeeping per timer
// (validation, an id map, eager removal from the heap on clearTimeout) was a
// quarter of the run. This clock keeps one binary heap ordered by (due time,
// creation order), exactly the order fake-timers fired in, and cancels
// lazily: a cleared timer is marked and skipped when it reaches the top.
// A cleared timer lets go of its callback at once (at 10,000 nodes the
// request and handshake timeouts cleared within milliseconds of being set
// outnumber the live timers, and held their closures for up to 20 s of
// virtual time), and once they are half the heap it is rebuilt from the
// live ones: the order is (due time, creation) whatever the heap's shape.
//
// With a fixed start and a seed, a run repeats exactly: the nodes' random
// draws (gossip's choice of full-block peers, the peer manager's dial order)
// read Math.random, which then is a seeded generator, and every timestamp
// and block hash is the same from run to run. That is what lets a change made
// to host nodes more cheaply show the very same figures before and after.
import { seededRandom } from '@chronos/codec'

export interface VirtualTimeOptions {
  /** Unix ms the clock starts at. Default: the real time now. */
  startMs?: number
  /** Replaces Math.random with a generator of this seed until uninstall. Default: Math.random stays. */
  seed?: number
}

export interface VirtualTime {
  /** Stops driving and restores the real timers and clocks. */
  uninstall(): void
  /** Timers fired so far. */
  readonly steps: number
  /** Timers waiting (cancelled ones not yet dropped included). */
  readonly pending: number
}

interface Entry {
  at: number
  seq: number
  run: () => void
  /** Repeat period for setInterval; undefined for a timeout. */
  every: number | undefined
  cancelled: boolean
  /** In the heap now (a fired timeout is not; an interval is put back before it runs). */
  queued: boolean
}

const released = () => {}
/** Cancelled entries below this count are not worth a rebuild. */
const MIN_REBUILD = 4096

/** What setTimeout returns: enough of Node's Timeout for the code under simulation. */
class VirtualTimeout {
  constructor(readonly entry: Entry) {}
  ref(): this {
    return this
  }
  unref(): this {
    return this
  }
  hasRef(): boolean {
    return true
  }
  [Symbol.toPrimitive](): number {
    return this.entry.seq
  }
}

class TimerHeap {
  private items: Entry[] = []
  /** Entries in `items` that were cancelled and not yet dropped. */
  private cancelledInHeap = 0

  get size(): number {
    return this.items.length
  }

  /** Marks `entry` cancelled and drops its callback; rebuilds once cancelled ones are half the heap. */
  cancel(entry: Entry): void {
    if (entry.cancelled) return
    entry.cancelled = true
    entry.run = released
    if (!entry.queued) return
    this.cancelledInHeap++
    if (this.cancelledInHeap >= MIN_REBUILD && 2 * this.cancelledInHeap >= this.items.length)
      this.rebuild()
  }

  /** The live entries in (due time, creation) order: a sorted array is a heap. */
  private rebuild(): void {
    for (const entry of this.items) if (entry.cancelled) entry.queued = false
    this.items = this.items.filter((entry) => !entry.cancelled).sort(compare)
    this.cancelledInHeap = 0
  }

  /** Drops every entry (uninstall: nothing pending may keep a finished simulation's nodes alive). */
  clear(): void {
    this.items = []
    this.cancelledInHeap = 0
  }

  push(entry: Entry): void {
    entry.queued = true
    const items = this.items
    items.push(entry)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(entry, items[parent]!)) break
      items[i] = items[parent]!
      i = parent
    }
    items[i] = entry
  }

  /** The earliest live entry, removed; cancelled ones on the way are dropped. */
  pop(): Entry | undefined {
    while (this.items.length > 0) {
      const top = this.takeTop()
      top.queued = false
      if (!top.cancelled) return top
      this.cancelledInHeap--
    }
    return undefined
  }

  private takeTop(): Entry {
    const items = this.items
    const top = items[0]!
    const last = items.pop()!
    if (items.length > 0) {
      let i = 0
      const n = items.length
      for (;;) {
        const left = 2 * i + 1
        if (left >= n) break
        const right = left + 1
        const child = right < n && before(items[right]!, items[left]!) ? right : left
        if (!before(items[child]!, last)) break
        items[i] = items[child]!
        i = child
      }
      items[i] = last
    }
    return top
  }
}

const before = (a: Entry, b: Entry) => a.at < b.at || (a.at === b.at && a.seq < b.seq)
const compare = (a: Entry, b: Entry) => a.at - b.at || a.seq - b.seq

/** Installs the virtual clock at the real current time and starts driving it. */
export function installVirtualTime(options: VirtualTimeOptions = {}): VirtualTime {
  const real = {
    random: Math.random,
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
    setInterval: globalThis.setInterval,
    clearInterval: globalThis.clearInterval,
    Date: globalThis.Date,
    performanceNow: performance.now,
  }
  const realImmediate = setImmediate
  const RealDate = real.Date
  const heap = new TimerHeap()
  let now = options.startMs ?? RealDate.now()
  // A fixed start fixes performance.now() too (it starts at 10^6 ms), so that no float rounding
  // depends on how long the process had run; otherwise it goes on from the real one.
  const performanceOffset =
    options.startMs !== undefined ? now - 1e6 : now - real.performanceNow.call(performance)
  let seq = 0
  let steps = 0
  let running = true
  let firing = false

  const schedule = (
    callback: (...args: unknown[]) => void,
    delay: unknown,
    args: unknown[],
    repeat: boolean,
  ) => {
    // As fake-timers did: whole milliseconds (Date.now() stays an integer, as real time's is),
    // and a zero delay asked for inside a timer callback waits 1 ms.
    const whole = Math.max(0, Math.trunc(Number(delay)) || 0)
    const ms = whole || (firing ? 1 : 0)
    const entry: Entry = {
      at: now + ms,
      seq: ++seq,
      run: () => callback(...args),
      every: repeat ? Math.max(1, whole) : undefined,
      cancelled: false,
      queued: false,
    }
    heap.push(entry)
    return new VirtualTimeout(entry)
  }
  const cancel = (timer: unknown) => {
    if (timer instanceof VirtualTimeout) heap.cancel(timer.entry)
  }

  const g = globalThis as unknown as Record<string, unknown>
  g.setTimeout = (callback: (...args: unknown[]) => void, delay?: unknown, ...args: unknown[]) =>
    schedule(callback, delay, args, false)
  g.setInterval = (callback: (...args: unknown[]) => void, delay?: unknown, ...args: unknown[]) =>
    schedule(callback, delay, args, true)
  g.clearTimeout = cancel
  g.clearInterval = cancel
  class VirtualDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(now)
      else super(...(args as [string | number]))
    }
    static override now(): number {
      return now
    }
  }
  g.Date = VirtualDate
  performance.now = () => now - performanceOffset
  if (options.seed !== undefined) Math.random = seededRandom(options.seed)

  const yieldToWork = () => new Promise<void>((resolve) => realImmediate(resolve))
  void (async () => {
    while (running) {
      // Two turns: work started by a setImmediate callback gets its own turn too.
      await yieldToWork()
      await yieldToWork()
      if (!running) break
      const next = heap.pop()
      if (!next) continue
      now = Math.max(now, next.at)
      if (next.every !== undefined) {
        next.at = now + next.every
        next.seq = ++seq
        heap.push(next)
      }
      steps++
      firing = true
      try {
        next.run()
      } finally {
        firing = false
      }
    }
  })()
  return {
    uninstall() {
      running = false
      // The driver's loop ends at its next turn; until then its heap would hold every pending
      // timer's callback, and through them the nodes of the run (a following run's heap baseline).
      heap.clear()
      g.setTimeout = real.setTimeout
      g.clearTimeout = real.clearTimeout
      g.setInterval = real.setInterval
      g.clearInterval = real.clearInterval
      g.Date = real.Date
      performance.now = real.performanceNow
      Math.random = real.random
    },
    get steps() {
      return steps
    },
    get pending() {
      return heap.size
    },
  }
}
