/**
 * `pnpm --filter @chronos/fuzz exec tsx --conditions=@chronos/source src/replay.ts <target> <input>...`
 * Runs a target on saved inputs (crash files, corpus entries) without the
 * fuzzer and prints each outcome: the way to debug a finding.
 */
import { readFileSync } from 'node:fs'
import { TARGETS, type Target } from './run.js'

const [target, ...files] = process.argv.slice(2) as [Target, ...string[]]
if (!TARGETS.includes(target))
  throw new Error(`unknown target ${target}: one of ${TARGETS.join(', ')}`)
const { fuzz } = (await import(`./targets/${target}.ts`)) as {
  fuzz: (data: Uint8Array) => unknown
}
let failed = 0
for (const file of files) {
  try {
    await fuzz(new Uint8Array(readFileSync(file)))
    console.log(`ok    ${file}`)
  } catch (error) {
    failed++
    console.log(
      `FAIL  ${file}\n      ${(error as Error)?.stack ?? error}${(error as Error)?.cause instanceof Error ? `\n      cause: ${((error as Error).cause as Error).stack}` : ''}`,
    )
  }
}
process.exit(failed ? 1 : 0)
