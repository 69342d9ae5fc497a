/**
 * Runs one fuzz target: bundles it (TypeScript ESM sources -> one CommonJS
 * file Jazzer.js can instrument), writes its seeds from the protocol vectors,
 * then runs libFuzzer through Jazzer.js for `seconds`, and reads the figures
 * libFuzzer prints. When the native addon cannot be built on this machine
 * it says why and falls back to an uninstrumented mutation loop over the
 * same seeds (no coverage guidance), so the targets' invariants still run.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { seedBodies, seedFrames } from './vectors.js'

export const TARGETS = ['frame-decoder', 'message', 'server-session', 'client-session'] as const
export type Target = (typeof TARGETS)[number]

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const work = join(root, '.fuzz')
const require = createRequire(join(root, 'package.json'))

/** Targets whose fuzz function returns a promise run in Jazzer's async mode. */
const ASYNC: ReadonlySet<Target> = new Set(['server-session', 'client-session'])

export interface RunOptions {
  seconds: number
  /** Told each phase as it starts (bundle, seeds, addon, fuzz), for a deadline that names it. */
  phase?: (name: string) => void
  /** libFuzzer's RSS limit: going over it is a finding (memory bounded). */
  rssLimitMb?: number
  /** Keep the corpus grown by earlier runs (the default); false starts from the seeds alone. */
  keepCorpus?: boolean
  seed?: number
}

export interface RunResult {
  target: Target
  engine: 'jazzer' | 'fallback'
  why?: string
  executions: number
  coverage: number | undefined
  features: number | undefined
  corpus: number
  seconds: number
  crashes: string[]
  exitCode: number
  log: string
}

async function bundle(target: Target): Promise<string> {
  const out = join(work, 'build', `${target}.cjs`)
  await build({
    entryPoints: [join(root, 'src', 'targets', `${target}.ts`)],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['@chronos/source'],
    // Coverage counts Chronos code, not the schema library's.
    external: ['zod'],
    sourcemap: 'inline',
    logLevel: 'warning',
  })
  return out
}

function writeSeeds(target: Target): string {
  const dir = join(work, 'seeds', target)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const seeds =
    target === 'frame-decoder'
      ? // Prefix: limit (2 bytes) + cut count (1) + cuts; then the stream.
        seedFrames().map((f) =>
          Buffer.concat([Buffer.from([0x0f, 0xff, 0x03, 0, 5, 0, 9, 1, 3]), f]),
        )
      : target === 'message'
        ? seedBodies()
        : // Session targets read decisions byte by byte: a few patterned programs to start from.
          Array.from({ length: 16 }, (_, i) =>
            Buffer.from(Array.from({ length: 96 }, (_, j) => (i * 37 + j * (i + 1)) & 0xff)),
          )
  for (const [i, s] of seeds.entries())
    writeFileSync(join(dir, `seed-${String(i).padStart(3, '0')}`), s)
  return dir
}

function writeDictionary(): string {
  const tokens = [
    'SHAKEHAND',
    'PULL_BLOCK',
    'PUSH_BLOCK',
    'NEW_BLOCK',
    'NEW_BLOCK_HASH',
    'GET_BLOCK',
    'BLOCK_KNOWN',
    'GET_PEERS',
    'PEERS',
    '"code"',
    '"data"',
    '"block_header"',
    '"transactions"',
    '"height"',
    '"prev_hash"',
    '"timestamp"',
    '"tx_root"',
    '"producer"',
    '"hash"',
    '"seal"',
    '"address"',
    '"genesis"',
    '"head"',
    '"key"',
    '"nonce"',
    '"proof"',
    '"features"',
    '"since"',
    'null',
    'true',
    '[[[[',
    '{"',
    '":',
    '\\u0000',
    '\\ud800',
  ]
  const file = join(work, 'chronos.dict')
  mkdirSync(work, { recursive: true })
  writeFileSync(file, `${tokens.map((t) => JSON.stringify(t)).join('\n')}\n`)
  return file
}

/**
 * Builds the addon when missing (once per install; ~20 s, minutes on a loaded
 * machine); returns why Jazzer cannot run here, or undefined when it can.
 */
export async function jazzerUnavailable(): Promise<string | undefined> {
  const script = join(root, 'scripts', 'build-addon.mjs')
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code) =>
      resolvePromise(code === 0 ? undefined : err.trim() || `exit ${code}`),
    )
  })
}

function parseFigures(log: string) {
  // libFuzzer status lines: "#12345\tDONE   cov: 812 ft: 2034 corp: 301/18Kb ... exec/s: 4115"
  const lines = log.split('\n').filter((l) => /^#\d+/.test(l))
  const last = lines.at(-1) ?? ''
  const num = (re: RegExp) => {
    const m = re.exec(last)
    return m ? Number(m[1]) : undefined
  }
  const done = /Done (\d+) runs in (\d+) second/.exec(log)
  return {
    executions: done ? Number(done[1]) : (num(/^#(\d+)/) ?? 0),
    coverage: num(/cov: (\d+)/),
    features: num(/ft: (\d+)/),
    corpus: num(/corp: (\d+)/) ?? 0,
  }
}

function crashesIn(dir: string, target: Target): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter(
      (f) =>
        f.startsWith(`${target}-crash-`) ||
        f.startsWith(`${target}-oom-`) ||
        f.startsWith(`${target}-timeout-`),
    )
    .map((f) => join(dir, f))
}

export async function runTarget(target: Target, options: RunOptions): Promise<RunResult> {
  options.phase?.('bundling the target with esbuild')
  const bundled = await bundle(target)
  options.phase?.('writing the seeds')
  const seeds = writeSeeds(target)
  const corpus = join(work, 'corpus', target)
  if (options.keepCorpus === false) rmSync(corpus, { recursive: true, force: true })
  mkdirSync(corpus, { recursive: true })
  const artifacts = join(work, 'artifacts')
  mkdirSync(artifacts, { recursive: true })
  const before = new Set(crashesIn(artifacts, target))
  const started = Date.now()
  options.phase?.('building or finding the Jazzer.js addon')
  const why =
    process.env.FUZZ_ENGINE === 'fallback'
      ? 'FUZZ_ENGINE=fallback was set'
      : await jazzerUnavailable()
  if (why) return fallback(target, bundled, seeds, options, why)
  const cli = join(dirname(require.resolve('@jazzer.js/core/package.json')), 'dist', 'cli.js')
  const args = [
    cli,
    bundled,
    corpus,
    seeds,
    '-i',
    bundled,
    '--timeout',
    '10000',
    ...(ASYNC.has(target) ? [] : ['--sync']),
    '--',
    `-max_total_time=${options.seconds}`,
    `-rss_limit_mb=${options.rssLimitMb ?? 1024}`,
    `-artifact_prefix=${artifacts}/${target}-`,
    `-seed=${options.seed ?? 1}`,
    '-print_final_stats=1',
    ...(target === 'message' || target === 'frame-decoder' ? [`-dict=${writeDictionary()}`] : []),
  ]
  options.phase?.(`fuzzing for ${options.seconds} s (libFuzzer -max_total_time)`)
  const child = spawn(process.execPath, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  const exitCode: number = await new Promise((r) => child.on('close', (code) => r(code ?? 1)))
  const figures = parseFigures(log)
  return {
    target,
    engine: 'jazzer',
    ...figures,
    corpus: figures.corpus,
    seconds: (Date.now() - started) / 1000,
    crashes: crashesIn(artifacts, target).filter((c) => !before.has(c)),
    exitCode,
    log,
  }
}

/** No coverage guidance: byte flips, inserts, deletions and splices of the seeds, in process. */
async function fallback(
  target: Target,
  bundled: string,
  seedsDir: string,
  options: RunOptions,
  why: string,
): Promise<RunResult> {
  const started = Date.now()
  const { fuzz } = require(bundled) as { fuzz: (data: Uint8Array) => unknown }
  const seeds = readdirSync(seedsDir).map((f) => new Uint8Array(readFileSync(join(seedsDir, f))))
  let state = (options.seed ?? 1) >>> 0
  const random = (n: number) => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state % Math.max(1, n)
  }
  const mutate = (input: Uint8Array): Uint8Array => {
    const bytes = [...input]
    for (let k = 1 + random(4); k > 0; k--) {
      const at = random(bytes.length + 1)
      switch (random(4)) {
        case 0:
          if (bytes.length) bytes[at % bytes.length] = random(256)
          break
        case 1:
          bytes.splice(at, 0, random(256))
          break
        case 2:
          bytes.splice(at, 1 + random(8))
          break
        default: {
          const other = seeds[random(seeds.length)]!
          const from = random(other.length)
          bytes.splice(at, 0, ...other.subarray(from, from + 1 + random(32)))
        }
      }
    }
    return new Uint8Array(bytes)
  }
  let executions = 0
  const crashes: string[] = []
  let log = `fallback engine (not coverage-guided): ${why}\n`
  const deadline = started + options.seconds * 1000
  while (Date.now() < deadline && crashes.length === 0) {
    const input =
      executions < seeds.length ? seeds[executions]! : mutate(seeds[random(seeds.length)]!)
    try {
      await fuzz(input)
    } catch (error) {
      const file = join(work, 'artifacts', `${target}-crash-fallback-${executions}`)
      writeFileSync(file, input)
      crashes.push(file)
      log += `crash: ${(error as Error)?.stack ?? error}\n`
    }
    executions++
  }
  return {
    target,
    engine: 'fallback',
    why,
    executions,
    coverage: undefined,
    features: undefined,
    corpus: seeds.length,
    seconds: (Date.now() - started) / 1000,
    crashes,
    exitCode: crashes.length ? 1 : 0,
    log,
  }
}
