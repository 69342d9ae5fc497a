// Adds up the Vitest JSON reports of every workspace package and prints one
// closing line for the whole run, so CI logs end with a single verdict.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
let passed = 0
let failed = 0
let skipped = 0
const REPORTS = ['vitest.json', 'soak.json']
const rows = []
for (const group of ['packages', 'apps', 'tools']) {
  const dir = join(root, group)
  if (!existsSync(dir)) continue
  for (const name of readdirSync(dir)) {
    // vitest.json: the package's suite; soak.json: apps/node's soak smoke, run after every suite.
    for (const file of REPORTS) {
      const report = join(dir, name, 'test-results', file)
      if (!existsSync(report)) continue
      const r = JSON.parse(readFileSync(report, 'utf8'))
      passed += r.numPassedTests
      failed += r.numFailedTests
      skipped += r.numPendingTests + (r.numTodoTests ?? 0)
      const label = file === 'vitest.json' ? `${group}/${name}` : `${group}/${name} (${file})`
      rows.push(`${label.padEnd(28)} ${r.numPassedTests} passed, ${r.numFailedTests} failed`)
    }
  }
}
console.log(rows.join('\n'))
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
