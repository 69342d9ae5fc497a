/** What a sync reports while it runs. */
export interface SyncProgress {
  /** Our confirmed height now. */
  height: number
  /** The height we are syncing to. */
  target: number
  /** Blocks applied per second since this sync began. */
  blocksPerSecond: number
  /** Seconds left at that rate; undefined until a rate is known. */
  etaSeconds: number | undefined
  /** Peers serving blocks. */
  peers: number
}

/** Turns applied-block counts into rates and ETAs. */
export class ProgressMeter {
  private readonly startedAt = performance.now()
  private applied = 0

  constructor(private readonly target: number) {}

  step(): void {
    this.applied++
  }

  report(height: number, peers: number): SyncProgress {
    const seconds = (performance.now() - this.startedAt) / 1000
    const blocksPerSecond = seconds > 0 ? this.applied / seconds : 0
    const left = Math.max(0, this.target - height)
    return {
      height,
      target: this.target,
      blocksPerSecond,
      etaSeconds: blocksPerSecond > 0 ? left / blocksPerSecond : undefined,
      peers,
    }
  }
}
