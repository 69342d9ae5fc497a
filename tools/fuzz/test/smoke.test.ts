// The CI smoke of every fuzz target: a short coverage-guided run from the
// vector seeds (FUZZ_SMOKE_SECONDS each, default 15, at most 60), which must
// find nothing; and the saved findings replayed. The long run and the
// figures: docs/FUZZING.md.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runTarget, TARGETS } from '../src/run.js'

const seconds = Math.min(60, Number(process.env.FUZZ_SMOKE_SECONDS ?? 15))

describe('fuzz smoke', () => {
  it.each(TARGETS)(
    '%s: a short fuzzing run from the vector seeds finds no crash, untyped error or unhandled rejection, within the RSS limit',
    async (target) => {
      const result = await runTarget(target, { seconds, keepCorpus: false, seed: 1 })
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
      if (result.engine === 'fallback') console.log(`not coverage-guided here: ${result.why}`)
      if (result.exitCode !== 0) console.log(result.log.slice(-4000))
      expect(result.crashes, 'crash inputs written').toEqual([])
      expect(result.exitCode, 'fuzzer exit code').toBe(0)
      expect(result.executions).toBeGreaterThan(100)
    },
    (seconds + 90) * 1000,
  )

  it('replays every saved finding without failing (open ones are tolerated until fixed, see FUZZ_STRICT)', async () => {
    const dir = join(import.meta.dirname, '..', 'findings')
    for (const file of readdirSync(dir)) {
      const target = TARGETS.find((t) => file.startsWith(`${t}-`))
      expect(target, `${file} names its target`).toBeDefined()
      const { fuzz } = (await import(`../src/targets/${target}.ts`)) as {
        fuzz: (data: Uint8Array) => unknown
      }
      const { readFileSync } = await import('node:fs')
      await fuzz(new Uint8Array(readFileSync(join(dir, file))))
    }
  })
})
