// Runs `pnpm bench` several times in a row (default 3) and reports, for
// every ratio each run wrote, how far the runs are from their median:
// a figure that moves more than ±10 % between consecutive runs says little.
// Each run's results are kept in bench-results/runs/<n>/; the summary goes to
// bench-results/agreement.json and stdout (a markdown table, for BENCHMARKS.md),
// and each results file's own rows go under `runs` into that file.
// A results file that lists its headline figures under `agreement` (a flat
// name → number map) is tabulated by those alone; otherwise every number
// whose name looks like a figure (FIGURE) is.
//
//   pnpm --filter @chronos/bench-kit agreement [runs] [package...]
//
// With packages named, each run is `pnpm bench` restricted to them (turbo's
// --filter), for the benchmarks quick enough to repeat on a loaded machine.
import { execFileSync } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { machineLoad, median, resultsDir } from './index.js'

const runs = Number(process.argv[2] ?? 3)
const only = process.argv.slice(3)
const command: [string, string[]] = only.length
  ? [
      'pnpm',
      ['exec', 'turbo', 'run', 'bench', '--concurrency=1', ...only.map((p) => `--filter=${p}`)],
    ]
  : ['pnpm', ['bench']]
const root = join(resultsDir, '..')
const TOLERANCE = 0.1
/** Members that are not figures of the run: settings, raw times, machine state. */
const SKIP = new Set([
  'details',
  'load',
  'load_at_start',
  'params',
  'cost',
  'sizes',
  'goals',
  'graph',
  'per_block',
  'runs',
  'agreement',
])
const FIGURE = /_vs_|_per_node|heap_|ratio/

function figuresOf(content: unknown): [string, number][] {
  const listed = (content as { agreement?: unknown })?.agreement
  if (typeof listed === 'object' && listed !== null)
    return Object.entries(listed).filter(
      (entry): entry is [string, number] =>
        typeof entry[1] === 'number' && Number.isFinite(entry[1]),
    )
  return figures(content)
}

function figures(value: unknown, prefix = ''): [string, number][] {
  if (typeof value !== 'object' || value === null) return []
  const out: [string, number][] = []
  for (const [key, member] of Object.entries(value)) {
    if (SKIP.has(key)) continue
    const name = prefix ? `${prefix}.${key}` : key
    if (typeof member === 'number' && FIGURE.test(name) && Number.isFinite(member))
      out.push([name, member])
    else out.push(...figures(member, name))
  }
  return out
}

const table = new Map<string, number[]>()
const loads: {
  run: number
  failed: string | undefined
  before: number
  after: number
  minutes: number
}[] = []
// With packages named, runs/<n>/ keeps the other benchmarks' files of an earlier full agreement.
if (!only.length) rmSync(join(resultsDir, 'runs'), { recursive: true, force: true })
for (let run = 1; run <= runs; run++) {
  const before = machineLoad().loadavg_1m
  const start = Date.now()
  console.error(`agreement: pnpm bench, run ${run} of ${runs}`)
  let failed: string | undefined
  try {
    execFileSync(command[0], command[1], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
  } catch (error) {
    // Keep what the benchmarks that finished wrote; the table shows what is missing.
    failed = (error as Error).message.split('\n')[0]
    console.error(`agreement: run ${run} failed: ${failed}`)
  }
  loads.push({
    failed,
    run,
    before,
    after: machineLoad().loadavg_1m,
    minutes: Number(((Date.now() - start) / 60_000).toFixed(1)),
  })
  const keep = join(resultsDir, 'runs', String(run))
  mkdirSync(keep, { recursive: true })
  for (const file of readdirSync(resultsDir).filter((f) => f.endsWith('.json'))) {
    // Only what this run wrote: a benchmark that failed leaves an older file, not a figure of it.
    if (file === 'agreement.json' || statSync(join(resultsDir, file)).mtimeMs < start) continue
    cpSync(join(resultsDir, file), join(keep, file))
    const content = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'))
    for (const [name, value] of figuresOf(content)) {
      const key = `${file.replace(/\.json$/, '')}: ${name}`
      const values = table.get(key) ?? []
      values[run - 1] = value
      table.set(key, values)
    }
  }
}

const rows = [...table].map(([key, values]) => {
  const present = values.filter((v) => v !== undefined)
  const mid = median(present)
  const deviation = Math.max(...present.map((v) => Math.abs(v / mid - 1)))
  return {
    key,
    values,
    median: mid,
    deviation,
    agrees: present.length === runs && deviation <= TOLERANCE,
  }
})
const cell = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(3))
console.log(
  `\n| figure | ${loads.map((l) => `run ${l.run}`).join(' | ')} | median | max from median | within ±10 % |`,
)
console.log(`| --- | ${loads.map(() => '---').join(' | ')} | --- | --- | --- |`)
for (const r of rows)
  console.log(
    `| ${r.key} | ${Array.from({ length: runs }, (_, i) => cell(r.values[i])).join(' | ')} | ${cell(r.median)} | ${(r.deviation * 100).toFixed(1)} % | ${r.agrees ? 'yes' : 'NO'} |`,
  )
console.log(
  `\nload (1-minute average on ${machineLoad().cores} cores) before/after each run: ${loads.map((l) => `${l.before}/${l.after} (${l.minutes} min)`).join(', ')}`,
)
writeFileSync(
  join(resultsDir, 'agreement.json'),
  `${JSON.stringify(
    {
      command: [command[0], ...command[1]].join(' '),
      runs: loads,
      tolerance: TOLERANCE,
      agreeing: rows.filter((r) => r.agrees).length,
      figures: rows.length,
      rows: rows.map((r) => ({ ...r, deviation: Number(r.deviation.toFixed(4)) })),
      measured_at: new Date().toISOString(),
    },
    null,
    2,
  )}\n`,
)
// Each results file of the last run also carries its own rows, so one file says how well it holds.
for (const file of new Set(rows.map((r) => r.key.split(': ')[0]!))) {
  const path = join(resultsDir, `${file}.json`)
  const content = JSON.parse(readFileSync(path, 'utf8'))
  content.runs = {
    tolerance: TOLERANCE,
    loads,
    figures: Object.fromEntries(
      rows
        .filter((r) => r.key.startsWith(`${file}: `))
        .map((r) => [
          r.key.slice(file.length + 2),
          {
            values: Array.from({ length: runs }, (_, i) => r.values[i] ?? null),
            median: r.median,
            max_from_median: Number(r.deviation.toFixed(4)),
            agrees: r.agrees,
          },
        ]),
    ),
  }
  writeFileSync(path, `${JSON.stringify(content, null, 2)}\n`)
}
