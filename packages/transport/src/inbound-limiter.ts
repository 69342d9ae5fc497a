/** Caps inbound connections per listener, in total and per remote host. */
import type { Logger } from '@chronos/codec'
import type { Connection } from './types.js'

export type Refusal = 'INBOUND_LIMIT' | 'INBOUND_PER_HOST_LIMIT'

export class InboundLimiter {
  private total = 0
  private readonly perHost = new Map<string, number>()

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerHost: number,
  ) {}

  /** Takes a slot for `host`, or says why not. */
  acquire(host: string): Refusal | undefined {
    if (this.total >= this.maxTotal) return 'INBOUND_LIMIT'
    const count = this.perHost.get(host) ?? 0
    if (count >= this.maxPerHost) return 'INBOUND_PER_HOST_LIMIT'
    this.total++
    this.perHost.set(host, count + 1)
    return undefined
  }

  release(host: string): void {
    const count = this.perHost.get(host)
    if (count === undefined) return
    this.total--
    if (count <= 1) this.perHost.delete(host)
    else this.perHost.set(host, count - 1)
  }
}

/** A listener's inbound connections: admission under the limits, tracking until close. */
export class InboundConnections<C extends Connection = Connection> {
  private readonly limiter: InboundLimiter
  private readonly open = new Set<C>()

  constructor(
    limits: { maxInboundConnections: number; maxInboundPerHost: number },
    private readonly logger: Logger,
  ) {
    this.limiter = new InboundLimiter(limits.maxInboundConnections, limits.maxInboundPerHost)
  }

  get size(): number {
    return this.open.size
  }

  /** Takes a slot for `host`; on refusal logs `remote` with the reason code and returns false. */
  admit(host: string, remote: string): boolean {
    const refusal = this.limiter.acquire(host)
    if (refusal) this.logger.warn({ remote, reason: refusal }, 'inbound connection refused')
    return refusal === undefined
  }

  /**
   * Gives back a slot that `admit` took for a connection that never came to
   * be (a TLS handshake or WebSocket upgrade that failed after admission).
   * Call it at most once per admitted slot, and never for one passed to `track`.
   */
  release(host: string): void {
    this.limiter.release(host)
  }

  /** Holds an admitted connection until it closes, then frees its slot. */
  track(connection: C, host: string): void {
    this.open.add(connection)
    void connection.closed.then(() => {
      this.open.delete(connection)
      this.limiter.release(host)
    })
  }

  /** Closes every tracked connection (LISTENER_CLOSED) and resolves once all have closed. */
  closeAll(): Promise<unknown> {
    const open = [...this.open]
    for (const connection of open) connection.close('LISTENER_CLOSED')
    return Promise.all(open.map((connection) => connection.closed))
  }
}
