// The packages as a consumer gets them: every publishable package is packed
// (pnpm pack, which rewrites workspace: ranges), the tarballs are installed
// into a plain project in the OS temp dir (outside the workspace, file:
// installs, no registry publish), and that project is linted, type-checked,
// run and tested as a team consuming Chronos would. Needs every package
// built (turbo's ^build does it: this package depends on all of them).
import { execFile } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const exec = promisify(execFile)
const here = resolve(import.meta.dirname, '..')
const root = resolve(here, '../..')
const fixture = join(here, 'fixture')
const bin = (name: string) => join(here, 'node_modules/.bin', name)

interface Manifest {
  name: string
  version: string
  private?: boolean
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  exports?: Record<string, unknown>
  repository?: { url?: string; directory?: string }
  homepage?: string
  license?: string
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T

/** Every workspace package that would be published. */
function publishable(): { dir: string; manifest: Manifest }[] {
  const found: { dir: string; manifest: Manifest }[] = []
  for (const group of ['packages', 'apps', 'tools']) {
    for (const name of readdirSync(join(root, group)).sort()) {
      const dir = join(root, group, name)
      if (!existsSync(join(dir, 'package.json'))) continue
      const manifest = readJson<Manifest>(join(dir, 'package.json'))
      if (!manifest.private) found.push({ dir, manifest })
    }
  }
  return found
}

/** The environment of the enclosing pnpm/turbo run, without what would tie a child pnpm to the workspace. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|INIT_CWD|TURBO_|VITEST|NODE_OPTIONS)/.test(key)) continue
    env[key] = value
  }
  return env
}

async function run(command: string, args: string[], cwd: string, timeoutMs = 240_000) {
  try {
    return await exec(command, args, {
      cwd,
      env: cleanEnv(),
      maxBuffer: 64 * 1024 * 1024,
      timeout: timeoutMs,
    })
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string }
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n--- stdout\n${e.stdout}\n--- stderr\n${e.stderr}`,
    )
  }
}

/** The consumer's compiler settings: strict, libraries checked too (skipLibCheck off). */
function writeTsconfig(resolution: 'node16' | 'bundler'): void {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      module: resolution === 'node16' ? 'node16' : 'esnext',
      moduleResolution: resolution,
      strict: true,
      // node16 also emits the program the convergence tests run (Node 20 cannot run .ts).
      ...(resolution === 'node16' ? { outDir: 'out', declaration: false } : { noEmit: true }),
      skipLibCheck: false,
      types: ['node'],
    },
    files: ['entries.ts', 'consumer.ts', 'unix-transport.ts', 'compliance.test.ts'],
  }
  writeFileSync(join(project, `tsconfig.${resolution}.json`), JSON.stringify(config, null, 2))
}

/** The oldest TypeScript the packages' declarations work with, as their READMEs say. */
const MINIMUM_TYPESCRIPT = '5.4.5'

const packages = publishable()
let work: string
let project: string
const tarballs = new Map<string, string>()

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'chronos-pack-'))
  project = join(work, 'consumer')
  const packed = join(work, 'tarballs')
  mkdirSync(packed)
  for (const { dir, manifest } of packages) {
    if (!existsSync(join(dir, 'dist'))) throw new Error(`${manifest.name} is not built (no dist/)`)
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', packed], dir)
    const tarball = stdout.trim().split('\n').pop()!.trim()
    tarballs.set(manifest.name, tarball)
  }
  mkdirSync(project)
  const files = Object.fromEntries([...tarballs].map(([name, path]) => [name, `file:${path}`]))
  const rootManifest = readJson<Manifest>(join(root, 'package.json'))
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify(
      {
        name: 'chronos-consumer',
        private: true,
        type: 'module',
        dependencies: files,
        devDependencies: {
          '@types/node': rootManifest.devDependencies!['@types/node'],
          typescript: rootManifest.devDependencies!.typescript,
          vitest: rootManifest.devDependencies!.vitest,
          // The READMEs' stated minimum (5.3 lacks NoInfer, which the declarations need).
          'typescript-minimum': `npm:typescript@${MINIMUM_TYPESCRIPT}`,
        },
        // The packages' own ranges on each other (^0.1.0) resolve to these tarballs too.
        pnpm: { overrides: files, onlyBuiltDependencies: ['classic-level', 'esbuild'] },
      },
      null,
      2,
    ),
  )
  cpSync(fixture, project, { recursive: true })
  writeTsconfig('node16')
  writeTsconfig('bundler')
  await run('pnpm', ['install', '--prefer-offline', '--reporter=append-only'], project)
}, 300_000)

afterAll(() => {
  // CHRONOS_PACK_KEEP=1 keeps the consumer project for a look after a failure.
  if (work && !process.env.CHRONOS_PACK_KEEP) rmSync(work, { recursive: true, force: true })
  else if (work) console.log(`consumer project kept at ${project}`)
})

describe('packed packages, installed outside the workspace', () => {
  it('every publishable package is packed (bridge and tools stay private)', () => {
    expect([...tarballs.keys()].sort()).toEqual([
      '@chronos/chain-store',
      '@chronos/codec',
      '@chronos/gossip',
      '@chronos/node',
      '@chronos/peer',
      '@chronos/sync',
      '@chronos/transport',
      '@chronos/transport-ws',
    ])
  })

  it('installed manifests: LICENSE, repository, homepage, no workspace: ranges, no private packages', () => {
    const privateNames = new Set(['@chronos/bench-kit', '@chronos/bridge', '@chronos/pack-test'])
    const rootRepo = readJson<Manifest>(join(root, 'package.json')).repository?.url
    for (const name of tarballs.keys()) {
      const dir = join(project, 'node_modules', name)
      const manifest = readJson<Manifest>(join(dir, 'package.json'))
      expect(existsSync(join(dir, 'LICENSE')), `${name} LICENSE`).toBe(true)
      expect(manifest.license, name).toBe('MIT')
      expect(manifest.repository?.url, name).toBe(rootRepo)
      expect(manifest.homepage, name).toMatch(/^https:\/\//)
      for (const deps of [manifest.dependencies, manifest.devDependencies]) {
        for (const [dep, range] of Object.entries(deps ?? {})) {
          expect(range, `${name} -> ${dep}`).not.toMatch(/^workspace:/)
          expect(privateNames.has(dep), `${name} names private ${dep}`).toBe(false)
        }
      }
      const readme = readFileSync(join(dir, 'README.md'), 'utf8')
      const relative = [...readme.matchAll(/\]\((\.\.\/[^)]*)\)/g)].map((m) => m[1])
      expect(relative, `${name} README links that break on npm`).toEqual([])
    }
  })

  it('publint (strict) finds nothing to fix', async () => {
    const report: string[] = []
    for (const name of tarballs.keys()) {
      const pkgDir = join(project, 'node_modules', name)
      const { messages, pkg } = await publint({ pkgDir, pack: false, strict: true })
      for (const message of messages)
        report.push(`${name}: ${message.type} ${formatMessage(message, pkg, { color: false })}`)
    }
    expect(report).toEqual([])
  })

  it('are the types wrong (ESM-only profile) finds no problem', async () => {
    const failures: string[] = []
    for (const [name, tarball] of tarballs) {
      const result = await exec(
        bin('attw'),
        [tarball, '--profile', 'esm-only', '--format', 'ascii'],
        {
          env: cleanEnv(),
          maxBuffer: 16 * 1024 * 1024,
        },
      ).catch((error: { stdout?: string; stderr?: string }) => error)
      if ('code' in (result as object) && (result as { code?: number }).code)
        failures.push(`${name}:\n${(result as { stdout?: string }).stdout}`)
    }
    expect(failures).toEqual([])
  })

  for (const resolution of ['node16', 'bundler'] as const) {
    it(`a consumer type-checks with module resolution ${resolution}, strict`, async () => {
      const file = `tsconfig.${resolution}.json`
      await run(join(project, 'node_modules/.bin/tsc'), ['-p', file], project)
    })
  }

  it(`a consumer type-checks with TypeScript ${MINIMUM_TYPESCRIPT}, the stated minimum`, async () => {
    const tsc = join(project, 'node_modules/typescript-minimum/bin/tsc')
    await run('node', [tsc, '-p', 'tsconfig.bundler.json'], project)
  })

  for (const transport of ['tcp', 'ws'] as const) {
    it(`two nodes composed from the packages converge (${transport})`, async () => {
      // Compiled by the node16 type-check (or here, when run alone).
      const out = join(project, 'out')
      if (!existsSync(join(out, 'consumer.js')))
        await run(join(project, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.node16.json'], project)
      const { stdout } = await run('node', [join(out, 'consumer.js'), transport], project, 90_000)
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
        converged: boolean
        heads: string[]
      }
      expect(result.converged, stdout).toBe(true)
      expect(result.heads[0]).toBe(result.heads[1])
    })
  }

  it('the exported compliance suite passes against a Unix-socket transport written in the consumer', async () => {
    const report = join(work, 'compliance.json')
    await run(
      join(project, 'node_modules/.bin/vitest'),
      ['run', '--reporter=json', `--outputFile=${report}`],
      project,
    )
    const result = readJson<{ numTotalTests: number; numPassedTests: number }>(report)
    expect(result.numPassedTests).toBe(result.numTotalTests)
    // 19: every test of the suite, the frame-timeout one included (the setup gives openPartialFrame).
    expect(result.numTotalTests).toBeGreaterThanOrEqual(19)
  })
})
