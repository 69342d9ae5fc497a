#!/usr/bin/env node
// pnpm test:stress [--runs N] [--tree] [--busy K] [--dir DIR] [--keep]
//
// Runs the whole suite N times (default 10) while K busy loops (default 2)
// compete for the CPU, and prints a tally: each run's verdict and duration
// and the tests that failed in it, then how often each failing test failed.
// By default it runs on a fresh clone of this repository's HEAD (committed
// work only), installed with --frozen-lockfile, as a new user would; --tree
// runs on the current working tree instead. The clone sits beside this
// repository so that ../shared is where the suite expects it; --keep leaves
// it behind. Turbo's cache is bypassed (--force): every run really runs.
// Exits non-zero when any run failed.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

/** Each package's suite report, and apps/node's soak smoke (run after every suite). */
const REPORTS = ['vitest.json', 'soak.json']
const repo = resolve(new URL('..', import.meta.url).pathname)
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    busy: { type: 'string', default: '2' },
    tree: { type: 'boolean', default: false },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
})
const runs = Number(values.runs)
const busyCount = Number(values.busy)

function sh(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in ${cwd}`)
}

function prepare() {
  if (values.tree) return repo
  const dir = resolve(values.dir ?? join(dirname(repo), `.chronos-stress-${Date.now()}`))
  console.log(`stress: fresh clone of ${basename(repo)} HEAD at ${dir}`)
  sh('git', ['clone', '-q', repo, dir], repo)
  sh('pnpm', ['install', '--frozen-lockfile', '--reporter=silent'], dir)
  return dir
}

/** Failed test names from every package's Vitest JSON report, and the packages that reported. */
function readReports(dir) {
  const failed = []
  let reported = 0
  let passed = 0
  for (const group of ['packages', 'apps', 'tools']) {
    const groupDir = join(dir, group)
    if (!existsSync(groupDir)) continue
    for (const name of readdirSync(groupDir)) {
      for (const reportName of REPORTS) {
        const file = join(groupDir, name, 'test-results', reportName)
        if (!existsSync(file)) continue
        reported++
        const report = JSON.parse(readFileSync(file, 'utf8'))
        passed += report.numPassedTests
        for (const suite of report.testResults ?? []) {
          const failing = (suite.assertionResults ?? []).filter((a) => a.status === 'failed')
          for (const a of failing) failed.push(`${group}/${name}: ${a.fullName}`)
          // A file that failed to load has no assertions, only a message.
          if (suite.status === 'failed' && failing.length === 0)
            failed.push(
              `${group}/${name}: ${basename(suite.name)} (did not run: ${(suite.message ?? '').split('\n')[0]})`,
            )
        }
      }
    }
  }
  return { failed, reported, passed }
}

function clearReports(dir) {
  for (const group of ['packages', 'apps', 'tools']) {
    const groupDir = join(dir, group)
    if (!existsSync(groupDir)) continue
    for (const name of readdirSync(groupDir))
      for (const reportName of REPORTS)
        rmSync(join(groupDir, name, 'test-results', reportName), { force: true })
  }
}

function run(dir, args) {
  return new Promise((resolvePromise) => {
    const child = spawn('pnpm', args, { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('close', (code) => resolvePromise(code ?? 1))
  })
}

/** What root `pnpm test` runs, with turbo's cache bypassed: every suite, then the soak smoke alone. */
async function runSuite(dir) {
  const suites = await run(dir, [
    'exec',
    'turbo',
    'run',
    'test',
    '--force',
    '--continue',
    '--output-logs=errors-only',
  ])
  const soak = await run(dir, ['--filter', '@chronos/node', 'test:soak'])
  return suites || soak
}

const dir = prepare()
// Each busy loop is a process of its own pinning one core at 100 %.
const busy = Array.from({ length: busyCount }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
)
const stopBusy = () => {
  for (const b of busy) b.kill('SIGKILL')
}
process.on('SIGINT', () => {
  stopBusy()
  process.exit(130)
})

const tally = []
try {
  for (let run = 1; run <= runs; run++) {
    clearReports(dir)
    const started = Date.now()
    console.log(`\nstress: run ${run}/${runs} (${busyCount} busy loops)`)
    const code = await runSuite(dir)
    const { failed, reported, passed } = readReports(dir)
    const ok = code === 0 && failed.length === 0
    tally.push({
      run,
      ok,
      code,
      seconds: Math.round((Date.now() - started) / 1000),
      failed,
      reported,
      passed,
    })
  }
} finally {
  stopBusy()
}

console.log('\nstress tally')
console.log('run  verdict  seconds  tests passed  failing tests')
for (const t of tally)
  console.log(
    `${String(t.run).padStart(3)}  ${(t.ok ? 'pass' : 'FAIL').padEnd(7)}  ${String(t.seconds).padStart(7)}  ${String(t.passed).padStart(12)}  ${
      t.failed.length
        ? t.failed.join('; ')
        : t.ok
          ? '-'
          : `turbo exit ${t.code}, no test failed (a package failed outside its tests)`
    }`,
  )
const counts = new Map()
for (const t of tally) for (const f of t.failed) counts.set(f, (counts.get(f) ?? 0) + 1)
if (counts.size) {
  console.log('\nfailures by test')
  for (const [name, n] of [...counts].sort((a, b) => b[1] - a[1]))
    console.log(`${n}/${runs}  ${name}`)
}
const green = tally.filter((t) => t.ok).length
console.log(
  `\n${green}/${runs} runs green (${values.tree ? 'current tree' : `fresh clone ${dir}`}, ${busyCount} busy loops)`,
)
if (!values.tree && !values.keep) rmSync(dir, { recursive: true, force: true })
process.exit(green === runs ? 0 : 1)
