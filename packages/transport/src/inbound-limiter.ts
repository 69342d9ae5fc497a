/** Caps inbound connections per listener, in total and per remote host. */
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
