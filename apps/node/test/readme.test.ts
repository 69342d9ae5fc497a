// The README's "one node by hand" commands, extracted from README.md and run
// literally (pnpm, the built binary, the fixed ports) in a network namespace
// of their own, from a scratch directory inside the repo.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const runner = fileURLToPath(new URL('./readme-runner.mjs', import.meta.url))
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** The commands of the first `sh` block after the paragraph that starts with `marker`. */
function readmeCommands(readme: string, marker: string): string[] {
  const at = readme.indexOf(marker)
  if (at < 0) throw new Error(`README.md has no "${marker}"`)
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))
  if (!block) throw new Error(`no sh block after "${marker}"`)
  return block[1]!
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
}

/** Why this machine cannot give the test a network namespace, if it cannot. */
function namespaceUnavailable(): string | undefined {
  const probe = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' })
  if (probe.error) return `unshare: ${probe.error.message}`
  if (probe.status !== 0) return `unshare -n failed: ${probe.stderr.trim()}`
  return undefined
}

interface Report {
  steps: { line: string; status: number | null; stdout: string; stderr: string; ms: number }[]
  converged: { ok: boolean; seen: unknown[] } | undefined
  nodes: {
    line: string
    runningUntilSigterm: boolean
    exit: { code: number | null; signal: string | null } | { timeout: true }
    stoppedCleanly: boolean
    apiPortFree: boolean
    listenPortFree: boolean
    pidFileLeft: boolean
    stderr: string
    stdoutTail: string
  }[]
}

describe('README: one node by hand', () => {
  it('runs exactly as written: genesis file, two nodes that converge, status, help, SIGTERM to pnpm stops each node', async (context) => {
    const commands = readmeCommands(
      readFileSync(join(root, 'README.md'), 'utf8'),
      'One node by hand',
    )
    expect(commands.filter((line) => line.includes('chronos-node start')).length).toBeGreaterThan(1)
    const missing = namespaceUnavailable()
    if (missing) {
      console.log(`README commands not run: they need a network namespace (${missing})`)
      return context.skip()
    }
    // Inside the repo (pnpm finds its scripts), ignored by git (test-results/).
    const scratch = join(root, 'test-results')
    mkdirSync(scratch, { recursive: true })
    const workdir = mkdtempSync(join(scratch, 'readme-'))
    cleanups.push(() => rmSync(workdir, { recursive: true, force: true }))

    const child = spawn(
      'unshare',
      ['-n', process.execPath, runner, workdir, JSON.stringify(commands)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group: whatever it started goes with it if the test fails.
        detached: true,
        env: Object.fromEntries(
          Object.entries(process.env).filter(([name]) => !name.startsWith('CHRONOS_')),
        ),
      },
    )
    cleanups.push(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // Already gone.
      }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code, `runner failed: ${stderr}`).toBe(0)
    const report = JSON.parse(stdout) as Report

    for (const step of report.steps) expect(step.status, `${step.line}\n${step.stderr}`).toBe(0)
    const genesis = JSON.parse(readFileSync(join(workdir, 'genesis.json'), 'utf8'))
    expect(genesis.block_header.height).toBe(0)
    expect(report.converged, JSON.stringify(report.converged)).toMatchObject({ ok: true })

    const status = report.steps.find((step) => step.line.startsWith('curl'))
    if (status) {
      const body = JSON.parse(status.stdout) as { height: number; peers: unknown[] }
      expect(body.height).toBeGreaterThanOrEqual(3)
      expect(body.peers.length).toBeGreaterThan(0)
    }
    const help = report.steps.find((step) => step.line.includes('--help'))
    expect(help?.stdout).toMatch(/--max-peers <n>\s+peers we dial \(default: 16/)

    expect(report.nodes.length).toBe(commands.filter((l) => /start --data/.test(l)).length)
    for (const node of report.nodes) {
      const what = `${node.line}\n${node.stderr}\n${node.stdoutTail}`
      expect(node.runningUntilSigterm, what).toBe(true)
      expect(node.exit, what).toEqual({ code: 0, signal: null })
      expect(node.stoppedCleanly, what).toBe(true)
      // No orphan holds the node's ports or its data directory.
      expect(node.apiPortFree, what).toBe(true)
      expect(node.listenPortFree, what).toBe(true)
      expect(node.pidFileLeft, what).toBe(false)
    }
  }, 600_000)
})
