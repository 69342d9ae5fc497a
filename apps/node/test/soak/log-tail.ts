// The typed closes of one node process, read from its structured log (pino
// JSON on stdout): every `peer connection closed` line carries `reason`,
// `code`, `initiator` and the `remote` end. Each line is parsed once; the
// last `keep` closes are kept, and a waiter for a remote end is woken by
// its line or dropped at its deadline, so nothing grows over a long run.
import type { Readable } from 'node:stream'
import type { LoggedClose } from './attacks.js'

interface Close extends LoggedClose {
  remote: string
  at: number
}

export class LogTail {
  private readonly closes: Close[] = []
  private readonly waiters = new Map<string, (close: Close) => void>()
  private partial = ''

  constructor(
    stdout: Readable,
    /** Closes by `initiator reason/code`, summed over the node's processes (for the closing summary). */
    private readonly counts: Map<string, number>,
    private readonly keep = 2_000,
  ) {
    stdout.on('data', (chunk: Buffer) => {
      const text = this.partial + chunk.toString('utf8')
      const end = text.lastIndexOf('\n')
      this.partial = text.slice(end + 1)
      if (end < 0) return
      for (const line of text.slice(0, end).split('\n')) this.line(line)
    })
  }

  private line(line: string): void {
    if (!line.startsWith('{') || !line.includes('peer connection closed')) return
    let record: Record<string, unknown>
    try {
      record = JSON.parse(line) as Record<string, unknown>
    } catch {
      return
    }
    if (typeof record.msg !== 'string' || !record.msg.startsWith('peer connection closed')) return
    const close: Close = {
      remote: String(record.remote),
      reason: String(record.reason),
      code: typeof record.code === 'string' ? record.code : undefined,
      initiator: String(record.initiator),
      peer: typeof record.peer === 'string' ? record.peer : undefined,
      at: Date.now(),
    }
    const what = `${close.initiator} ${close.code && close.code !== close.reason ? `${close.reason}/${close.code}` : close.reason}`
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1)
    this.closes.push(close)
    if (this.closes.length > this.keep) this.closes.shift()
    this.waiters.get(close.remote)?.(close)
  }

  /** The close of the connection whose remote end is `remote` (already logged, or within `timeoutMs`). */
  closeOf(remote: string, timeoutMs: number): Promise<LoggedClose | undefined> {
    const logged = this.closes.findLast((c) => c.remote === remote)
    if (logged) return Promise.resolve(logged)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(remote)
        resolve(undefined)
      }, timeoutMs)
      this.waiters.set(remote, (close) => {
        clearTimeout(timer)
        this.waiters.delete(remote)
        resolve(close)
      })
    })
  }

  /** Closes logged at or after `since` (ms). */
  since(since: number): LoggedClose[] {
    return this.closes.filter((c) => c.at >= since)
  }
}
