// The CI smoke of every fuzz target: a short coverage-guided run from the
// vector seeds (FUZZ_SMOKE_SECONDS each, default 15, at most 60), which must
// find nothing; and the saved findings replayed. The long run and the
// figures: docs/FUZZING.md.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { jazzerUnavailable, runTarget, TARGETS } from '../src/run.js'

const seconds = Math.min(60, Number(process.env.FUZZ_SMOKE_SECONDS ?? 15))
// Generous: on a loaded 2-core machine Jazzer's startup and instrumentation take minutes.
const DEADLINE_MS = (seconds + 240) * 1000

/** Rejects after `ms` naming the phase that did not finish. */
async function withDeadline<T>(ms: number, run: (phase: (name: string) => void) => Promise<T>) {
  let current = 'starting'
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still ${current} after ${ms / 1000} s`)), ms)
  })
  try {
    return await Promise.race([run((name) => (current = name)), expired])
  } finally {
    clearTimeout(timer)
  }
}

describe('fuzz smoke', () => {
  // Built once, before any target runs (and not against a target's deadline).
  let why: string | undefined
  beforeAll(async () => {
    if (process.env.FUZZ_ENGINE !== 'fallback') why = await jazzerUnavailable()
  }, 900_000)

  it.each(TARGETS)(
    '%s: a short fuzzing run from the vector seeds finds no crash, untyped error or unhandled rejection, within the RSS limit',
    async (target) => {
      const result = await withDeadline(DEADLINE_MS, (phase) =>
        runTarget(target, { seconds, keepCorpus: false, seed: 1, phase }),
      )
      const figures = {
        target,
        engine: result.engine,
        executions: result.executions,
        coverage: result.coverage,
        features: result.features,
        corpus: result.corpus,
        seconds: Math.round(result.seconds),
      }
      console.log(JSON.stringify(figures))
      if (result.engine === 'fallback')
        console.log(`not coverage-guided here: ${result.why ?? why}`)
      if (result.exitCode !== 0) console.log(result.log.slice(-4000))
      expect(result.crashes, 'crash inputs written').toEqual([])
      expect(result.exitCode, 'fuzzer exit code').toBe(0)
      expect(result.executions).toBeGreaterThan(100)
    },
    DEADLINE_MS + 30_000,
  )

  it('replays every saved finding without failing (open ones are tolerated until fixed, see FUZZ_STRICT)', async () => {
    const dir = join(import.meta.dirname, '..', 'findings')
    for (const file of readdirSync(dir)) {
      const target = TARGETS.find((t) => file.startsWith(`${t}-`))
      expect(target, `${file} names its target`).toBeDefined()
      const { fuzz } = (await import(`../src/targets/${target}.ts`)) as {
        fuzz: (data: Uint8Array) => unknown
      }
      await fuzz(new Uint8Array(readFileSync(join(dir, file))))
    }
  })
})
