// The chronos-node CLI as a real child process, with its JSON log lines readable by tests.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
/** tsx by location, so the child may run in any working directory. */
const tsx = import.meta.resolve('tsx')
const children: ChildProcess[] = []

/** SIGKILLs every child still running. */
export function stopChildren(): void {
  for (const child of children.splice(0)) child.kill('SIGKILL')
}

export interface RunOptions {
  /** Added to the environment (the parent's CHRONOS_* variables are never inherited). */
  env?: Record<string, string>
  cwd?: string
}

/** Runs the chronos-node CLI from source in a child process (optionally behind `prefix`, e.g. `ip netns exec NS`). */
export function run(args: string[], prefix: string[] = [], options: RunOptions = {}) {
  const command = [
    ...prefix,
    process.execPath,
    '--import',
    tsx,
    '--conditions=@chronos/source',
    cli,
    ...args,
  ]
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('CHRONOS_')),
  )
  const child = spawn(command[0]!, command.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...inherited, ...options.env },
    cwd: options.cwd,
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  /** Where the log is now, for `logLine` to look only past it. */
  const mark = () => stdout.length
  /** Resolves with the first JSON log line (past `after`, a `mark()`) for which `match` holds. */
  const logLine = (match: (line: Record<string, unknown>) => boolean, after = 0) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      let scanned = after
      const scan = () => {
        // Only whole lines past those already looked at.
        const end = stdout.lastIndexOf('\n') + 1
        if (end <= scanned) return
        const lines = stdout.slice(scanned, end).split('\n')
        scanned = end
        for (const line of lines) {
          if (!line.startsWith('{')) continue
          const record = JSON.parse(line) as Record<string, unknown>
          if (match(record)) return settle(() => resolve(record))
        }
      }
      const exit = () =>
        settle(() => reject(new Error(`exited before the log line; stderr: ${stderr}`)))
      const settle = (finish: () => void) => {
        child.stdout!.off('data', scan)
        child.off('exit', exit)
        finish()
      }
      child.stdout!.on('data', scan)
      child.on('exit', exit)
      scan()
    })
  return { child, exited, logLine, mark, output: () => ({ stdout, stderr }) }
}
