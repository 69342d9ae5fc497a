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

/** Turns applied-block counts into rates and ETAs, on the clock it is given (ms). */
export class ProgressMeter {
  private readonly startedAt: number
  private applied = 0

  constructor(
    private target: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startedAt = now()
  }

  step(): void {
    this.applied++
  }

  /** The sync follows its peer to a higher tip. */
  retarget(target: number): void {
    this.target = target
  }

  report(height: number, peers: number): SyncProgress {
    const seconds = (this.now() - this.startedAt) / 1000
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
