// What a stack host's process did over one timed span (from injection or
// publish until the last node had the block): wall time, CPU time (all
// threads), garbage collection inside the span, and the event loop's
// utilisation. Together they say where a slow block's time went: CPU-bound
// work (CPU ≈ wall), a process waiting for a core (the loop busy, CPU well
// below wall), a protocol waiting on timers or the network (the loop idle),
// or GC. GC entries arrive asynchronously, so a span is read once it is
// over (`read` at the end of the block's window), counting the entries
// that started inside it.
//
// On Linux the event-loop thread's scheduler counters
// (/proc/thread-self/schedstat: time on a CPU, time runnable but waiting in
// the run queue) say how much of a span the thread spent waiting for a core
// that others held. Wall time less that wait is the time to all the stack
// would have had with a core to itself (its loop never idles while a
// block spreads: the utilisation is 1.00); on a quiet machine the two agree.
import { readFileSync } from 'node:fs'
import {
  constants,
  type EventLoopUtilization,
  PerformanceObserver,
  performance,
} from 'node:perf_hooks'

interface GcEntry {
  start: number
  duration: number
  major: boolean
}

/** Recent GC pauses, oldest first; bounded (a window is seconds long). */
const gcEntries: GcEntry[] = []
const MAX_GC_ENTRIES = 20_000
let observing = false

/** Starts recording GC pauses in this process (idempotent). */
export function installGcMeter(): void {
  if (observing) return
  observing = true
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind
      gcEntries.push({
        start: entry.startTime,
        duration: entry.duration,
        major: kind === constants.NODE_PERFORMANCE_GC_MAJOR,
      })
    }
    if (gcEntries.length > MAX_GC_ENTRIES) gcEntries.splice(0, gcEntries.length - MAX_GC_ENTRIES)
  }).observe({ entryTypes: ['gc'] })
}

/**
 * A full collection before a timed span (the host runs with --expose-gc):
 * the garbage earlier blocks and maintenance left is not billed to
 * whichever block happens to trip the next mark-compact. What the block
 * itself allocates is still collected, and counted, inside its span.
 */
export function collectGarbage(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

export interface SpanReading {
  wallMs: number
  cpuMs: number
  /** Sum of GC pauses that started within the span, ms; `majorGcs` of them were mark-compacts. */
  gcMs: number
  majorGcs: number
  /** Event-loop utilisation over the span (0..1): the share of it the loop was not idle. */
  elu: number
  /** The event-loop thread's time runnable but waiting for a core (NaN without schedstat). */
  cpuWaitMs: number
  /** The event-loop thread's time on a core (NaN without schedstat). */
  onCpuMs: number
}

/** The calling (main) thread's [ns on a CPU, ns waiting in the run queue], or undefined. */
function schedstat(): [number, number] | undefined {
  try {
    const [onCpu, waiting] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')
    return [Number(onCpu), Number(waiting)]
  } catch {
    return undefined
  }
}

export interface Span {
  /** Closes the span now (call when the last node has the block); idempotent, first call wins. */
  end(): void
  ended(): boolean
  /** The span's figures; NaN for all when it never ended. Read after the window, for GC. */
  read(): SpanReading
}

export function startSpan(): Span {
  const wallStart = performance.now()
  const cpuStart = process.cpuUsage()
  const eluStart = performance.eventLoopUtilization()
  const schedStart = schedstat()
  let closed:
    | { wallEnd: number; cpuMs: number; elu: EventLoopUtilization; sched?: [number, number] }
    | undefined
  return {
    end() {
      if (closed) return
      const { user, system } = process.cpuUsage(cpuStart)
      closed = {
        wallEnd: performance.now(),
        cpuMs: (user + system) / 1000,
        elu: performance.eventLoopUtilization(eluStart),
        sched: schedstat(),
      }
    },
    ended: () => closed !== undefined,
    read() {
      if (!closed)
        return {
          wallMs: Number.NaN,
          cpuMs: Number.NaN,
          gcMs: Number.NaN,
          majorGcs: 0,
          elu: Number.NaN,
          cpuWaitMs: Number.NaN,
          onCpuMs: Number.NaN,
        }
      const sched =
        schedStart && closed.sched
          ? [closed.sched[0] - schedStart[0], closed.sched[1] - schedStart[1]]
          : [Number.NaN, Number.NaN]
      const inside = gcEntries.filter((e) => e.start >= wallStart && e.start < closed!.wallEnd)
      return {
        wallMs: closed.wallEnd - wallStart,
        cpuMs: closed.cpuMs,
        gcMs: inside.reduce((sum, e) => sum + e.duration, 0),
        majorGcs: inside.filter((e) => e.major).length,
        elu: closed.elu.utilization,
        onCpuMs: sched[0]! / 1e6,
        cpuWaitMs: sched[1]! / 1e6,
      }
    },
  }
}
