/**
 * One budget for the bytes buffered across all connections (issue 10 item
 * 3; as js-libp2p's resource manager limits memory per scope): what frame
 * decoders hold of frames still arriving plus what send buffers hold for
 * peers that have not read it. Each connection reports what it holds now;
 * the one whose report would take the total past the budget is refused
 * and closed with BUFFER_BUDGET_EXCEEDED, so many connections each within
 * their own limits cannot together exhaust the process.
 */
import { TransportError } from './errors.js'

export class BufferBudgetExceededError extends TransportError {
  constructor(
    readonly requestedBytes: number,
    readonly usedBytes: number,
    readonly maxBytes: number,
  ) {
    super(
      'BUFFER_BUDGET_EXCEEDED',
      `holding ${requestedBytes} more bytes would pass the ${maxBytes}-byte budget buffered across all connections (${usedBytes} in use)`,
    )
  }
}

/** The close reason of a connection refused by the budget. */
export const BUFFER_BUDGET_EXCEEDED = 'BUFFER_BUDGET_EXCEEDED'

export class BufferBudget {
  private readonly held = new Map<object, number>()
  private total = 0
  /** The highest total seen, for figures and tests. */
  peakBytes = 0

  constructor(readonly maxBytes: number) {
    if (!(maxBytes > 0)) throw new RangeError(`buffer budget must be positive, got ${maxBytes}`)
  }

  get usedBytes(): number {
    return this.total
  }

  /**
   * Records that `owner` now holds `bytes`. Returns the error to close it
   * with when that would pass the budget (its old figure stays recorded
   * until `release`); undefined when it fits. Shrinking always fits.
   */
  update(owner: object, bytes: number): BufferBudgetExceededError | undefined {
    const before = this.held.get(owner) ?? 0
    const growth = bytes - before
    if (growth > 0 && this.total + growth > this.maxBytes)
      return new BufferBudgetExceededError(growth, this.total, this.maxBytes)
    this.total += growth
    if (bytes === 0) this.held.delete(owner)
    else this.held.set(owner, bytes)
    if (this.total > this.peakBytes) this.peakBytes = this.total
    return undefined
  }

  /** `owner` is gone: everything it held is free. */
  release(owner: object): void {
    this.total -= this.held.get(owner) ?? 0
    this.held.delete(owner)
  }
}
