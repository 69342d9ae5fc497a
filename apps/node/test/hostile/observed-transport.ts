// A real TCP transport whose connections the test can look up, to read why the node closed
// one through its typed CloseInfo (issue 13: outcomes from close reasons, not log text).
import type { CloseInfo, Connection, DialOptions, Listener, Transport } from '@chronos/transport'
import type { Ends } from './attacks.js'

export class ObservedTransport implements Transport {
  readonly name: string
  /** The node's connections by "its remote end|its local end". */
  private readonly byEnds = new Map<string, Connection>()
  private readonly waiters = new Map<string, ((c: Connection) => void)[]>()

  constructor(private readonly inner: Transport) {
    this.name = inner.name
  }

  listen(address: string, onConnection: (c: Connection) => void): Promise<Listener> {
    return this.inner.listen(address, (connection) => {
      this.track(connection)
      onConnection(connection)
    })
  }

  async dial(address: string, options?: DialOptions): Promise<Connection> {
    const connection = await this.inner.dial(address, options)
    this.track(connection)
    return connection
  }

  /** The node's end of the connection to `peer` (a raw peer here or in an attacker host; it sees the two ends swapped). */
  connectionOf(peer: Ends, timeoutMs = 5_000): Promise<Connection | undefined> {
    const key = `${peer.localAddress}|${peer.remoteAddress}`
    const known = this.byEnds.get(key)
    if (known) return Promise.resolve(known)
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs)
      const list = this.waiters.get(key) ?? []
      list.push((c) => {
        clearTimeout(timer)
        resolve(c)
      })
      this.waiters.set(key, list)
    })
  }

  /** Why the node closed (or saw close) its connection to `peer`; undefined if still open after `timeoutMs`. */
  async closeOf(peer: Ends, timeoutMs = 10_000): Promise<CloseInfo | undefined> {
    const connection = await this.connectionOf(peer)
    if (!connection) return undefined
    let timer: NodeJS.Timeout | undefined
    const info = await Promise.race([
      connection.closed,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs)
      }),
    ])
    clearTimeout(timer)
    return info
  }

  private track(connection: Connection): void {
    const key = `${connection.remoteAddress}|${connection.localAddress}`
    this.byEnds.set(key, connection)
    for (const wake of this.waiters.get(key)?.splice(0) ?? []) wake(connection)
    this.waiters.delete(key)
    // Keep closed ones a while (a case reads the reason after the close), bounded by count.
    if (this.byEnds.size > 4096) this.byEnds.delete(this.byEnds.keys().next().value!)
  }
}

/** The stable code a close carries: the error's code when there is one (e.g. FRAME_TOO_LARGE), else the reason. */
export const closeCode = (info: CloseInfo): string =>
  String((info.error as { code?: string } | undefined)?.code ?? info.reason)

/** "none", or how many closed and the codes they closed with, e.g. "3 (ANNOUNCE_FLOOD x3)". */
export function closeSummary(closes: readonly (CloseInfo | undefined)[]): string {
  const codes = new Map<string, number>()
  for (const info of closes)
    if (info) codes.set(closeCode(info), (codes.get(closeCode(info)) ?? 0) + 1)
  if (!codes.size) return 'none'
  const total = [...codes.values()].reduce((a, b) => a + b, 0)
  return `${total} (${[...codes].map(([code, n]) => `${code} x${n}`).join(', ')})`
}
