// The test's handle on an attacker host (attacker-host.ts): a child process with its own event
// loop, heap and GC, as a remote attacker has, that runs named attacks on request. Every host
// still running is killed by `stopAttackers()` (each hostile file calls it after each test),
// and by the host itself when this process goes away.
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Ends, Operation, Operations, Report, Request, Response } from './attacks.js'
import { claimAddress, type HostileContext } from './harness.js'
import { closeSummary } from './observed-transport.js'

const hostPath = fileURLToPath(new URL('./attacker-host.ts', import.meta.url))
/** tsx by location, so the host loads the workspace's TypeScript sources. */
const tsx = import.meta.resolve('tsx')

/** How long one request may take before it fails naming what it waited for. */
const REQUEST_DEADLINE_MS = 60_000

const live = new Set<AttackerHost>()

export class AttackerHost {
  private nextId = 1
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >()
  private stderr = ''
  readonly exited: Promise<number | null>
  private readonly ready: Promise<void>

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (chunk) => {
      // The last few KiB say why a host failed; more is noise.
      this.stderr = (this.stderr + chunk).slice(-4096)
    })
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
    this.ready = new Promise((resolve, reject) => {
      child.on('message', (response: Response) => {
        if ('ready' in response) return resolve()
        const waiter = this.pending.get(response.id)
        this.pending.delete(response.id)
        if (response.ok) waiter?.resolve(response.value)
        else waiter?.reject(new Error(`attacker host: ${response.error}`))
      })
      void this.exited.then((code) => {
        const error = new Error(`attacker host exited (code ${code}); stderr: ${this.stderr}`)
        reject(error)
        for (const waiter of this.pending.values()) waiter.reject(error)
        this.pending.clear()
        live.delete(this)
      })
    })
    // A host that failed before it was ever awaited must not become an unhandled rejection.
    this.ready.catch(() => {})
  }

  /** Starts a host; it is ready for requests once it has said so. */
  static async start(): Promise<AttackerHost> {
    const child = fork(hostPath, [], {
      execArgv: ['--import', tsx, '--conditions=@chronos/source'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    const host = new AttackerHost(child)
    live.add(host)
    await host.ready
    return host
  }

  /** Runs `op` in the host and resolves with its result. */
  request<K extends Operation>(
    op: K,
    params: Operations[K]['params'],
    deadlineMs = REQUEST_DEADLINE_MS,
  ): Promise<Operations[K]['result']> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`attacker host: ${op} not done after ${deadlineMs} ms`))
      }, deadlineMs)
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer)
          resolve(value as Operations[K]['result'])
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
      // A host that is gone fails the request now, not at its deadline.
      this.child.send({ id, op, params } as Request, (error) => {
        if (!error) return
        this.pending.get(id)?.reject(error)
        this.pending.delete(id)
      })
    })
  }

  /** Closes the host's connections and ends it; kills it if it does not end within 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    await this.request('close', {}, 5_000).catch(() => {})
    this.child.disconnect()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000)
    await this.exited
    clearTimeout(timer)
  }

  kill(): Promise<number | null> {
    this.child.kill('SIGKILL')
    return this.exited
  }
}

/** Kills every host still running and waits for each to be gone. */
export async function stopAttackers(): Promise<void> {
  await Promise.all([...live].map((host) => host.kill()))
}

// Vitest ends its workers without running our hooks when a run is aborted: the hosts go too.
process.once('exit', () => {
  for (const host of live) void host.kill()
})

/**
 * Opens `count` connections from `host` to the node of `ctx`, each claiming its own address;
 * fails naming the node's typed reason for each one it closed instead of answering SHAKEHAND.
 */
export async function openFrom(
  host: AttackerHost,
  ctx: HostileContext,
  count: number,
  options: { handshake: boolean; local?: string } = { handshake: true },
): Promise<Ends[]> {
  const opened = await host.request('open', {
    target: ctx.node.address,
    genesis: ctx.genesis.block_header.hash,
    claims: Array.from({ length: count }, claimAddress),
    ...options,
  })
  const refused = opened.filter((c) => c.refused)
  if (refused.length) {
    const closes = await Promise.all(refused.map((c) => ctx.closeOf(c, 1_000)))
    throw new Error(
      `${refused.length} of ${count} attacker connections had no SHAKEHAND answer; the node closed them: ${closeSummary(closes)}`,
    )
  }
  return opened
}

/** Sums what each connection of a report received, by code. */
export function receivedTotals(report: Report): Record<string, number> {
  const totals: Record<string, number> = {}
  for (const { received } of report.connections)
    for (const [code, n] of Object.entries(received)) totals[code] = (totals[code] ?? 0) + n
  return totals
}
