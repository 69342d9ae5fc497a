/**
 * Benchmarks on shared machines: absolute times are noise, ratios against
 * a baseline measured in the same run are not. `compare` alternates
 * baseline and subject batches and reports the median of per-round ratios,
 * so a burst of load hits both sides alike. Each round runs the pair in
 * the other order than the round before (baseline first, then subject
 * first), so neither side always runs on a warmer or colder machine.
 * Every comparison reports its spread: the quartiles and extremes of the
 * per-round ratios, over at least MIN_ROUNDS rounds.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import os, { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export {
  BENCH_ENV,
  BenchWorker,
  type BenchWorkerOptions,
  processCpuNs,
  serveBenchWorker,
} from './worker.js'

export interface Comparison {
  name: string
  baselineName: string
  /** Median time of one subject operation, ns. */
  subjectNs: number
  /** Median time of one baseline operation, ns. */
  baselineNs: number
  /** Median over rounds of subject time / baseline time. */
  ratio: number
  /** The per-round ratios' spread. */
  spread: Spread
  /** Paired rounds measured. */
  rounds: number
  clock?: BenchClock
  goal?: number
}

/** Quartiles and extremes of the per-round ratios. */
export interface Spread {
  min: number
  p25: number
  p75: number
  max: number
}

/** Fewer paired rounds than this and a median says little; options asking for fewer are raised to it. */
export const MIN_ROUNDS = 7

/**
 * What a round is timed by. `cpu`: this process's CPU time (user + system,
 * all its threads), which leaves out the time it waited for a core while
 * others ran; on a shared machine that wait is most of the noise. `wall`:
 * elapsed time, for work that another process shares (it is not in our CPU
 * time) or that waits on purpose.
 */
export type BenchClock = 'cpu' | 'wall'

const clocks: Record<BenchClock, () => number> = {
  cpu: () => {
    const { user, system } = process.cpuUsage()
    return (user + system) * 1000
  },
  wall: () => Number(process.hrtime.bigint()),
}

export interface CompareOptions {
  /** Default `cpu`. */
  clock?: BenchClock
  /** Operations per timed batch (default: enough for ~25 ms). */
  batch?: number
  /** Alternating rounds (default 31, at least MIN_ROUNDS). */
  rounds?: number
  goal?: number
}

export const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Linear-interpolated quantile (q in [0, 1]) of values. */
export const quantile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const at = q * (sorted.length - 1)
  const low = Math.floor(at)
  const high = Math.min(sorted.length - 1, low + 1)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low)
}

export const spreadOf = (values: readonly number[]): Spread => ({
  min: Math.min(...values),
  p25: quantile(values, 0.25),
  p75: quantile(values, 0.75),
  max: Math.max(...values),
})

const roundsOf = (requested: number | undefined, fallback: number) =>
  Math.max(MIN_ROUNDS, requested ?? fallback)

function timeBatch(fn: () => unknown, batch: number, clock: () => number = clocks.wall): number {
  const start = clock()
  for (let i = 0; i < batch; i++) fn()
  return (clock() - start) / batch
}

function calibrate(fn: () => unknown, targetMs = 25): number {
  const once = timeBatch(fn, 1)
  return Math.max(1, Math.min(100_000, Math.round((targetMs * 1e6) / Math.max(once, 1))))
}

/** One round: the baseline and then the subject, timed back to back. */
interface Sample {
  baselineNs: number
  subjectNs: number
}

/** Medians over rounds; the ratio is the median of per-round ratios, not a ratio of medians. */
function summarise(
  name: string,
  baselineName: string,
  samples: Sample[],
  goal?: number,
): Comparison {
  const ratios = samples.map((s) => s.subjectNs / s.baselineNs)
  return {
    name,
    baselineName,
    subjectNs: median(samples.map((s) => s.subjectNs)),
    baselineNs: median(samples.map((s) => s.baselineNs)),
    ratio: median(ratios),
    spread: spreadOf(ratios),
    rounds: samples.length,
    goal,
  }
}

/**
 * A comparison from per-round ratios measured elsewhere (e.g. one simulated
 * block per round, timed by both stacks): same median and spread rules.
 */
export function fromRatios(
  name: string,
  baselineName: string,
  rounds: readonly { subject: number; baseline: number }[],
  goal?: number,
): Comparison {
  return summarise(
    name,
    baselineName,
    rounds.map((r) => ({ subjectNs: r.subject, baselineNs: r.baseline })),
    goal,
  )
}

/** Times two synchronous operations against each other. */
export function compare(
  name: string,
  subject: () => unknown,
  baselineName: string,
  baseline: () => unknown,
  options: CompareOptions = {},
): Comparison {
  for (let i = 0; i < 20; i++) {
    subject()
    baseline()
  }
  const batch = options.batch ?? calibrate(baseline)
  const subjectBatch = options.batch ?? calibrate(subject)
  const rounds = roundsOf(options.rounds, 31)
  const clock = clocks[options.clock ?? 'cpu']
  const samples: Sample[] = []
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      const baselineNs = timeBatch(baseline, batch, clock)
      samples.push({ baselineNs, subjectNs: timeBatch(subject, subjectBatch, clock) })
    } else {
      const subjectNs = timeBatch(subject, subjectBatch, clock)
      samples.push({ subjectNs, baselineNs: timeBatch(baseline, batch, clock) })
    }
  }
  return { ...summarise(name, baselineName, samples, options.goal), clock: options.clock ?? 'cpu' }
}

/** Times two asynchronous runs (each one complete workload) against each other. */
export async function compareAsync(
  name: string,
  subject: () => Promise<unknown>,
  baselineName: string,
  baseline: () => Promise<unknown>,
  options: { rounds?: number; goal?: number; clock?: BenchClock } = {},
): Promise<Comparison> {
  const rounds = roundsOf(options.rounds, MIN_ROUNDS)
  const clock = clocks[options.clock ?? 'wall']
  const samples: Sample[] = []
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      const baselineNs = await timeOnce(baseline, clock)
      samples.push({ baselineNs, subjectNs: await timeOnce(subject, clock) })
    } else {
      const subjectNs = await timeOnce(subject, clock)
      samples.push({ subjectNs, baselineNs: await timeOnce(baseline, clock) })
    }
  }
  return { ...summarise(name, baselineName, samples, options.goal), clock: options.clock ?? 'wall' }
}

/**
 * One side's work for a round of `compareInterleaved`, split into steps.
 * `cpuNs`, when given, reads the cumulative CPU time of every process the
 * side's work runs in (workers, a serving peer); the side's cost is then its
 * change from the first step to the end of `close`, background threads
 * included. Those processes must do nothing else during the round (run
 * the other side in a worker of its own), or the other side's work is
 * billed to this one. Without it, the kit times each step and `close` by
 * this process's CPU clock.
 */
export interface InterleavedSide {
  step(index: number): Promise<unknown>
  /** The end of the round's work (timed): close, flush, remove. */
  close?(): Promise<unknown>
  cpuNs?(): Promise<number>
}

export interface InterleavedOptions {
  /** Steps per round on each side. */
  steps: number
  /** Paired rounds (default MIN_ROUNDS, at least MIN_ROUNDS). */
  rounds?: number
  /** Rounds run first and not counted (default 1): JIT, page cache, the allocator's first growth. */
  warmup?: number
  goal?: number
}

/**
 * Times two workloads that do their work in steps (I/O-bound ones: blocks
 * to a database, messages over a socket) with their steps interleaved:
 * subject step, baseline step, baseline step, subject step, ... So the two
 * sides meet the same machine within tens of milliseconds of each other,
 * rather than whole runs apart: on a shared machine a core is worth more
 * or less CPU time from one second to the next (a busy hyperthread
 * sibling, cold caches), and whole-run rounds caught that as spread. Each
 * round opens fresh state for both sides (`open` is not timed) and ends
 * with their `close`, timed; the round's ratio is subject cost over
 * baseline cost, each the sum over its steps, by CPU time.
 */
export async function compareInterleaved(
  name: string,
  openSubject: (round: number) => Promise<InterleavedSide>,
  baselineName: string,
  openBaseline: (round: number) => Promise<InterleavedSide>,
  options: InterleavedOptions,
): Promise<Comparison> {
  const rounds = roundsOf(options.rounds, MIN_ROUNDS)
  const warmup = options.warmup ?? 1
  const samples: Sample[] = []
  for (let r = -warmup; r < rounds; r++) {
    const subject = metered(await openSubject(r))
    const baseline = metered(await openBaseline(r))
    await subject.begin()
    await baseline.begin()
    for (let i = 0; i < options.steps; i++) {
      const pair = (r + i + warmup) % 2 === 0 ? [subject, baseline] : [baseline, subject]
      for (const side of pair) await side.run(() => side.inner.step(i))
    }
    const last = (r + warmup) % 2 === 0 ? [subject, baseline] : [baseline, subject]
    for (const side of last) await side.run(() => side.inner.close?.())
    if (r < 0) continue
    samples.push({ subjectNs: await subject.end(), baselineNs: await baseline.end() })
  }
  return { ...summarise(name, baselineName, samples, options.goal), clock: 'cpu' }
}

/** Adds up one side's CPU time: its own processes' counters, or this process's around its calls. */
function metered(inner: InterleavedSide) {
  let startNs = 0
  let ownNs = 0
  return {
    inner,
    async begin() {
      if (inner.cpuNs) startNs = await inner.cpuNs()
    },
    async run(work: () => Promise<unknown> | undefined) {
      if (inner.cpuNs) {
        await work()
        return
      }
      const start = clocks.cpu()
      await work()
      ownNs += clocks.cpu() - start
    },
    async end() {
      return inner.cpuNs ? (await inner.cpuNs()) - startNs : ownNs
    },
  }
}

async function timeOnce(run: () => Promise<unknown>, clock: () => number): Promise<number> {
  const start = clock()
  await run()
  return clock() - start
}

const formatNs = (ns: number) =>
  ns >= 1e9
    ? `${(ns / 1e9).toFixed(2)} s`
    : ns >= 1e6
      ? `${(ns / 1e6).toFixed(2)} ms`
      : `${(ns / 1e3).toFixed(1)} µs`

export const formatSpread = ({ spread: s, rounds }: Comparison) =>
  `${s.p25.toFixed(2)}-${s.p75.toFixed(2)}; ${s.min.toFixed(2)}-${s.max.toFixed(2)}; n=${rounds}`

/** The machine's load when a benchmark ran: 1-minute load average against its cores. */
export function machineLoad(): { loadavg_1m: number; cores: number } {
  return { loadavg_1m: Number(loadavg()[0]!.toFixed(2)), cores: availableCores() }
}

function availableCores(): number {
  return typeof os.availableParallelism === 'function'
    ? os.availableParallelism()
    : os.cpus().length
}

export function printTable(title: string, rows: Comparison[]): void {
  const load = machineLoad()
  console.log(`\n${title}  [load ${load.loadavg_1m} on ${load.cores} cores]`)
  const lines = rows.map((r) => [
    r.name,
    `${formatNs(r.subjectNs)} vs ${formatNs(r.baselineNs)} (${r.baselineName})`,
    r.ratio.toFixed(2),
    formatSpread(r),
    r.goal === undefined ? '' : r.ratio <= r.goal ? `<= ${r.goal} met` : `<= ${r.goal} MISSED`,
  ])
  const header = [
    'key',
    'subject vs baseline',
    'ratio',
    'spread (quartiles; min-max; rounds)',
    'goal',
  ]
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  for (const line of [header, ...lines])
    console.log(line.map((c, i) => c.padEnd(widths[i]!)).join('  '))
}

/** The repo's bench-results/ folder (the kit sits at tools/bench-kit). */
export const resultsDir = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'bench-results',
)

/** Writes bench-results/NAME.json: each comparison's ratio under its key, plus details and extras. */
export function writeResults(
  file: string,
  rows: Comparison[],
  extra: Record<string, unknown> = {},
): string {
  mkdirSync(resultsDir, { recursive: true })
  const path = join(resultsDir, `${file}.json`)
  const ratios = Object.fromEntries(rows.map((r) => [r.name, Number(r.ratio.toFixed(3))]))
  const details = Object.fromEntries(
    rows.map((r) => [
      r.name,
      {
        baseline: r.baselineName,
        subject_ns: Math.round(r.subjectNs),
        baseline_ns: Math.round(r.baselineNs),
        rounds: r.rounds,
        clock: r.clock ?? null,
        spread: Object.fromEntries(
          Object.entries(r.spread).map(([k, v]) => [k, Number(v.toFixed(3))]),
        ),
        goal: r.goal ?? null,
      },
    ]),
  )
  const content = {
    ...ratios,
    ...extra,
    details,
    load: machineLoad(),
    node: process.version,
    measured_at: new Date().toISOString(),
  }
  writeFileSync(path, `${JSON.stringify(content, null, 2)}\n`)
  return path
}
