// The chronos-node CLI as a real child process, with its JSON log lines readable by tests.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const children: ChildProcess[] = []

/** SIGKILLs every child still running. */
export function stopChildren(): void {
  for (const child of children.splice(0)) child.kill('SIGKILL')
}

/** Runs the chronos-node CLI from source in a child process (optionally behind `prefix`, e.g. `ip netns exec NS`). */
export function run(args: string[], prefix: string[] = []) {
  const command = [
    ...prefix,
    process.execPath,
    '--import',
    'tsx',
    '--conditions=@chronos/source',
    cli,
    ...args,
  ]
  const child = spawn(command[0]!, command.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  /** Resolves with the first JSON log line for which `match` holds. */
  const logLine = (match: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const scan = () => {
        for (const line of stdout.split('\n')) {
          if (!line.startsWith('{')) continue
          const record = JSON.parse(line) as Record<string, unknown>
          if (match(record)) return resolve(record)
        }
      }
      child.stdout!.on('data', scan)
      child.on('exit', () => reject(new Error(`exited before the log line; stderr: ${stderr}`)))
      scan()
    })
  return { child, exited, logLine, output: () => ({ stdout, stderr }) }
}
