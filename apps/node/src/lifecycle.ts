import type { Service } from '@chronos/codec'

/** One part the node composes: a `Service` under the name its errors and tests use. */
export type Part = readonly [name: string, service: Service]

type LifecycleState =
  | { kind: 'idle' }
  | { kind: 'starting'; done: Promise<void> }
  | { kind: 'running' }
  | { kind: 'stopping'; done: Promise<void> }

/** Thrown by `start()` when `stop()` was called before every part had started. */
export class StartAbortedError extends Error {
  readonly code = 'START_ABORTED'
  constructor() {
    super('stopped while starting')
  }
}

/** Thrown by `start()` when a part's start failed: names the part, the cause is its error. */
export class StartFailedError extends Error {
  readonly code = 'START_FAILED'
  constructor(
    readonly part: string,
    cause: unknown,
  ) {
    super(`${part} failed to start: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    })
  }
}

/**
 * Starts parts in order and stops them in reverse, so that each stops
 * before what it was started on. A start that fails stops the parts
 * already started (the failed one too: it may hold half of what it took),
 * in reverse; a stop during start lets the part being started finish,
 * starts no other, then stops those started. A stop before any start stops
 * every part: each `stop()` is safe before `start()`, and what a part holds
 * from its construction (the node's store, opened by `open()`) is released.
 * Every part is asked to stop even when another's stop throws (the first
 * error is rethrown once all have stopped).
 */
export class Lifecycle {
  private state: LifecycleState = { kind: 'idle' }
  /** How many parts start() has called, from the first. */
  private reached = 0

  constructor(private readonly parts: readonly Part[]) {}

  get phase(): LifecycleState['kind'] {
    return this.state.kind
  }

  /** Read afresh after each await: stop() may have been called meanwhile. */
  private get stopRequested(): boolean {
    return this.state.kind === 'stopping'
  }

  start(): Promise<void> {
    if (this.state.kind === 'starting') return this.state.done
    if (this.state.kind === 'running') return Promise.resolve()
    if (this.state.kind === 'stopping') return Promise.reject(new Error('stopped: cannot restart'))
    const done = (async () => {
      for (const [name, service] of this.parts) {
        if (this.stopRequested) throw new StartAbortedError()
        this.reached++
        try {
          await service.start()
        } catch (error) {
          // A stop() already under way stops the started parts once this settles.
          if (!this.stopRequested) {
            const stopped = this.stopReached()
            this.state = { kind: 'stopping', done: stopped }
            await stopped.catch(() => {})
          }
          throw new StartFailedError(name, error)
        }
      }
      if (this.stopRequested) throw new StartAbortedError()
      this.state = { kind: 'running' }
    })()
    this.state = { kind: 'starting', done }
    return done
  }

  /** Stops the parts in reverse order (every part before any start; idempotent). */
  stop(): Promise<void> {
    if (this.state.kind === 'stopping') return this.state.done
    const starting = this.state.kind === 'starting' ? this.state.done : undefined
    if (this.state.kind === 'idle') this.reached = this.parts.length
    const done = (async () => {
      await starting?.catch(() => {})
      await this.stopReached()
    })()
    this.state = { kind: 'stopping', done }
    return done
  }

  private async stopReached(): Promise<void> {
    let failure: { error: unknown } | undefined
    for (const [, service] of this.parts.slice(0, this.reached).reverse()) {
      try {
        await service.stop()
      } catch (error) {
        failure ??= { error }
      }
    }
    if (failure) throw failure.error
  }
}
