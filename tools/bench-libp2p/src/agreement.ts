// Do several runs of this benchmark agree? Reads the libp2p.json of each run
// (paths as arguments), prints one markdown row per figure with every run's
// value, their median and the largest distance from it (a figure counts
// when that is within ±10 %), and writes the table under `runs` into
// bench-results/libp2p.json (the last run's file).
//
//   tsx src/agreement.ts run1.json run2.json run3.json
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { median, resultsDir } from '@chronos/bench-kit'

const TOLERANCE = 0.1
const paths = process.argv.slice(2)
if (paths.length < 2) throw new Error('usage: agreement.ts <libp2p.json of run 1> <run 2> ...')
/** The members of a libp2p.json read here (a failed size has no ratios). */
interface SizeFigures {
  time_to_all_p50_vs_gossipsub?: number
  time_to_all_p99_vs_gossipsub?: number
  time_to_all_paired_ratio?: { median: number }
  cpu_to_all_vs_gossipsub?: { median: number }
  bytes_per_node_vs_gossipsub?: number
  duplicates_per_node?: { chronos: number; gossipsub: number }
  chronos: { time_to_all_ms: { p50: number } }
  gossipsub: { time_to_all_ms: { p50: number } }
}
interface RunFile {
  propagation: Record<string, SizeFigures>
  throughput: Record<string, { throughput_vs_libp2p?: number }>
  load_at_start?: { loadavg_1m: number }
  load?: { loadavg_1m: number }
  measured_at?: string
}
const runs = paths.map((path) => JSON.parse(readFileSync(path, 'utf8')) as RunFile)

const figures: [string, (run: RunFile) => number | undefined][] = []
for (const size of ['16KB', '1MB'])
  figures.push(
    [
      `${size} time_to_all_p50_vs_gossipsub`,
      (r) => r.propagation[size]!.time_to_all_p50_vs_gossipsub,
    ],
    [
      `${size} time_to_all_p99_vs_gossipsub`,
      (r) => r.propagation[size]!.time_to_all_p99_vs_gossipsub,
    ],
    [
      `${size} time_to_all paired median`,
      (r) => r.propagation[size]!.time_to_all_paired_ratio?.median,
    ],
    [
      `${size} cpu_to_all_vs_gossipsub`,
      (r) => r.propagation[size]!.cpu_to_all_vs_gossipsub?.median,
    ],
    [
      `${size} bytes_per_node_vs_gossipsub`,
      (r) => r.propagation[size]!.bytes_per_node_vs_gossipsub,
    ],
    [
      `${size} duplicates_per_node Chronos`,
      (r) => r.propagation[size]!.duplicates_per_node?.chronos,
    ],
    [
      `${size} duplicates_per_node gossipsub`,
      (r) => r.propagation[size]!.duplicates_per_node?.gossipsub,
    ],
    [`${size} Chronos p50 to all, ms`, (r) => r.propagation[size]!.chronos.time_to_all_ms.p50],
    [`${size} gossipsub p50 to all, ms`, (r) => r.propagation[size]!.gossipsub.time_to_all_ms.p50],
  )
for (const label of ['1KiB', '1MiB'])
  figures.push([`throughput_vs_libp2p ${label}`, (r) => r.throughput[label]?.throughput_vs_libp2p])

const rows = figures.map(([name, pick]) => {
  const values = runs.map((run) => {
    const value = pick(run)
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined
  })
  const present = values.filter((v): v is number => v !== undefined)
  const mid = present.length ? median(present) : Number.NaN
  const deviation = Math.max(...present.map((v) => Math.abs(v / mid - 1)))
  return {
    name,
    values,
    median: mid,
    deviation,
    agree: present.length === runs.length && deviation <= TOLERANCE,
  }
})

const cell = (v: number | undefined) => (v === undefined ? '–' : String(Number(v.toFixed(3))))
console.log(
  `| figure | ${runs.map((_, i) => `run ${i + 1}`).join(' | ')} | median | max from median |`,
)
console.log(`| --- | ${runs.map(() => '---').join(' | ')} | --- | --- |`)
for (const row of rows)
  console.log(
    `| ${row.name} | ${row.values.map(cell).join(' | ')} | ${cell(row.median)} | ${Number.isFinite(row.deviation) ? `${(row.deviation * 100).toFixed(1)} %${row.agree ? '' : ' (outside ±10 %)'}` : '–'} |`,
  )
const loads = runs.map((r) => ({
  at_start: r.load_at_start?.loadavg_1m,
  at_end: r.load?.loadavg_1m,
  measured_at: r.measured_at,
}))
console.log(
  `\nload (1 min) at start / end: ${loads.map((l) => `${l.at_start} / ${l.at_end}`).join('; ')}`,
)

const path = join(resultsDir, 'libp2p.json')
const latest = JSON.parse(readFileSync(path, 'utf8'))
latest.runs = {
  tolerance: TOLERANCE,
  loads,
  figures: Object.fromEntries(
    rows.map((r) => [
      r.name,
      {
        values: r.values.map((v) => v ?? null),
        median: r.median,
        max_from_median: Number(r.deviation.toFixed(3)),
        agree: r.agree,
      },
    ]),
  ),
}
writeFileSync(path, `${JSON.stringify(latest, null, 2)}\n`)
console.log(`\nwrote runs into ${path}`)
