/**
 * `pnpm --filter @chronos/fuzz fuzz [target...] [--seconds N] [--fresh] [--seed N]`
 * Runs each target (all when none is named) and prints its figures.
 */
import { parseArgs } from 'node:util'
import { runTarget, TARGETS, type Target } from './run.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '60' },
    fresh: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    'rss-limit-mb': { type: 'string', default: '1024' },
    verbose: { type: 'boolean', default: false },
  },
})
const targets = (positionals.length ? positionals : [...TARGETS]) as Target[]
for (const t of targets)
  if (!TARGETS.includes(t)) throw new Error(`unknown target ${t}: one of ${TARGETS.join(', ')}`)
let failed = false
for (const target of targets) {
  const result = await runTarget(target, {
    seconds: Number(values.seconds),
    keepCorpus: !values.fresh,
    seed: Number(values.seed),
    rssLimitMb: Number(values['rss-limit-mb']),
  })
  if (values.verbose || result.exitCode !== 0) console.log(result.log)
  console.log(
    JSON.stringify({
      target,
      engine: result.engine,
      ...(result.why ? { why: result.why } : {}),
      executions: result.executions,
      coverage: result.coverage,
      features: result.features,
      corpus: result.corpus,
      seconds: Math.round(result.seconds),
      crashes: result.crashes,
      exitCode: result.exitCode,
    }),
  )
  if (result.exitCode !== 0) failed = true
}
process.exit(failed ? 1 : 0)
