/**
 * Benchmark work in a process of its own, with its CPU time reported back.
 *
 * `process.cpuUsage()` covers one process, all its threads (LevelDB's
 * compaction thread, libuv's pool, GC). When a benchmark's work spans
 * processes, or two sides would otherwise share one process's background
 * threads (two LevelDB databases share one compaction thread, so one
 * side's compaction would be billed to whichever side runs next), each
 * side runs in a worker and every reply carries the worker's cumulative
 * CPU time, so the parent can sum exactly the processes a side involves.
 *
 * The protocol is one JSON object per line over the worker's stdin/stdout:
 * `{ id, op, args }` in, `{ id, value, cpuNs }` or `{ id, error, cpuNs }` out.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

/** This process's CPU time so far (user + system, all threads), ns. */
export const processCpuNs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) * 1000
}

type Handler = (...args: never[]) => unknown

interface Request {
  id: number
  op: string
  args: unknown[]
}

interface Reply {
  id: number
  value?: unknown
  error?: string
  cpuNs: number
}

/**
 * In the worker: answers requests with `handlers`, one at a time in
 * arrival order. The op `cpu` is built in (it only reports the CPU time).
 * Exits when stdin closes.
 */
export function serveBenchWorker(handlers: Record<string, Handler>): void {
  const lines = createInterface({ input: process.stdin })
  let queue: Promise<void> = Promise.resolve()
  const reply = (message: Reply) => process.stdout.write(`${JSON.stringify(message)}\n`)
  lines.on('line', (line) => {
    const request = JSON.parse(line) as Request
    queue = queue.then(async () => {
      try {
        const handler = handlers[request.op]
        if (!handler && request.op !== 'cpu') throw new Error(`no op ${request.op}`)
        const value = handler
          ? await (handler as (...a: unknown[]) => unknown)(...request.args)
          : null
        reply({ id: request.id, value, cpuNs: processCpuNs() })
      } catch (error) {
        reply({
          id: request.id,
          error: (error as Error).stack ?? String(error),
          cpuNs: processCpuNs(),
        })
      }
    })
  })
  lines.on('close', () => {
    void queue.then(() => process.exit(0))
  })
}

export interface BenchWorkerOptions {
  /** Arguments for node before the script (default: tsx with the workspace's source condition). */
  execArgv?: string[]
  cwd?: string
  /** Added to this process's environment (over BENCH_ENV). */
  env?: Record<string, string>
}

/**
 * The environment benchmark processes run in. One libuv pool thread: a
 * benchmark awaiting LevelDB one request at a time hands each to whichever
 * of the 4 default pool threads wakes, and on a loaded machine those
 * cross-thread wake-ups made the same 10,000 appends cost 280-860 ms of CPU
 * from one run to the next; with one thread, 280-300 ms. It changes no
 * result, only how many threads take turns doing the same work.
 */
export const BENCH_ENV: Record<string, string> = { UV_THREADPOOL_SIZE: '1' }

/** In the parent: a worker process running `script` (which calls `serveBenchWorker`). */
export class BenchWorker {
  private readonly child: ChildProcess
  private nextId = 0
  private readonly pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (error: Error) => void }
  >()
  private exited: Error | undefined

  constructor(script: string, args: string[] = [], options: BenchWorkerOptions = {}) {
    const execArgv = options.execArgv ?? ['--import', 'tsx', '--conditions=@chronos/source']
    this.child = spawn(process.execPath, [...execArgv, script, ...args], {
      cwd: options.cwd,
      env: { ...BENCH_ENV, ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const reply = JSON.parse(line) as Reply
      const waiter = this.pending.get(reply.id)
      if (!waiter) return
      this.pending.delete(reply.id)
      if (reply.error !== undefined)
        waiter.reject(new Error(`bench worker ${script}: ${reply.error}`))
      else waiter.resolve(reply)
    })
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`bench worker ${script} exited (${code ?? signal})`)
      for (const waiter of this.pending.values()) waiter.reject(this.exited)
      this.pending.clear()
    })
  }

  /** Runs `op` in the worker; resolves with its value and the worker's CPU time after it. */
  async call<T = unknown>(op: string, ...args: unknown[]): Promise<{ value: T; cpuNs: number }> {
    if (this.exited) throw this.exited
    const id = this.nextId++
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.child.stdin!.write(`${JSON.stringify({ id, op, args } satisfies Request)}\n`)
    })
    return { value: reply.value as T, cpuNs: reply.cpuNs }
  }

  /** The worker's CPU time so far (user + system, all its threads), ns. */
  async cpuNs(): Promise<number> {
    return (await this.call('cpu')).cpuNs
  }

  /** Closes its stdin and waits for it to exit. */
  async close(): Promise<void> {
    if (this.exited) return
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    this.child.stdin!.end()
    await exited
  }
}
