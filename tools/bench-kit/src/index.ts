/**
 * Benchmarks on shared machines: absolute times are noise, ratios against
 * a baseline measured in the same run are not. `compare` alternates
 * baseline and subject batches and reports the median of per-round ratios,
 * so a burst of load hits both sides alike.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Comparison {
  name: string
  baselineName: string
  /** Median time of one subject operation, ns. */
  subjectNs: number
  /** Median time of one baseline operation, ns. */
  baselineNs: number
  /** Median over rounds of subject time / baseline time. */
  ratio: number
  goal?: number
}

export interface CompareOptions {
  /** Operations per timed batch (default: enough for ~25 ms). */
  batch?: number
  /** Alternating rounds (default 31). */
  rounds?: number
  goal?: number
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function timeBatch(fn: () => unknown, batch: number): number {
  const start = process.hrtime.bigint()
  for (let i = 0; i < batch; i++) fn()
  return Number(process.hrtime.bigint() - start) / batch
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
  return {
    name,
    baselineName,
    subjectNs: median(samples.map((s) => s.subjectNs)),
    baselineNs: median(samples.map((s) => s.baselineNs)),
    ratio: median(samples.map((s) => s.subjectNs / s.baselineNs)),
    goal,
  }
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
  const rounds = options.rounds ?? 31
  const samples: Sample[] = []
  for (let r = 0; r < rounds; r++) {
    const baselineNs = timeBatch(baseline, batch)
    samples.push({ baselineNs, subjectNs: timeBatch(subject, subjectBatch) })
  }
  return summarise(name, baselineName, samples, options.goal)
}

/** Times two asynchronous runs (each one complete workload) against each other. */
export async function compareAsync(
  name: string,
  subject: () => Promise<unknown>,
  baselineName: string,
  baseline: () => Promise<unknown>,
  options: { rounds?: number; goal?: number } = {},
): Promise<Comparison> {
  const rounds = options.rounds ?? 3
  const samples: Sample[] = []
  for (let r = 0; r < rounds; r++) {
    const baselineNs = await timeOnce(baseline)
    samples.push({ baselineNs, subjectNs: await timeOnce(subject) })
  }
  return summarise(name, baselineName, samples, options.goal)
}

async function timeOnce(run: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint()
  await run()
  return Number(process.hrtime.bigint() - start)
}

const formatNs = (ns: number) =>
  ns >= 1e9
    ? `${(ns / 1e9).toFixed(2)} s`
    : ns >= 1e6
      ? `${(ns / 1e6).toFixed(2)} ms`
      : `${(ns / 1e3).toFixed(1)} µs`

export function printTable(title: string, rows: Comparison[]): void {
  console.log(`\n${title}`)
  const lines = rows.map((r) => [
    r.name,
    `${formatNs(r.subjectNs)} vs ${formatNs(r.baselineNs)} (${r.baselineName})`,
    r.ratio.toFixed(2),
    r.goal === undefined ? '' : r.ratio <= r.goal ? `<= ${r.goal} met` : `<= ${r.goal} MISSED`,
  ])
  const header = ['key', 'subject vs baseline', 'ratio', 'goal']
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
        goal: r.goal ?? null,
      },
    ]),
  )
  const content = {
    ...ratios,
    ...extra,
    details,
    node: process.version,
    measured_at: new Date().toISOString(),
  }
  writeFileSync(path, `${JSON.stringify(content, null, 2)}\n`)
  return path
}
