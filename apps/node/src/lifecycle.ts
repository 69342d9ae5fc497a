/**
 * What the node composes, under one contract: `start()` and `stop()` return
 * promises; `stop()` is idempotent and safe before `start()`.
 */
export interface Component {
  readonly name: string
  start(): Promise<void>
  stop(): Promise<void>
}

type LifecycleState =
  | { kind: 'idle' }
  | { kind: 'starting'; done: Promise<void> }
  | { kind: 'running' }
  | { kind: 'stopping'; done: Promise<void> }

/** Thrown by `start()` when `stop()` was called before every component had started. */
export class StartAbortedError extends Error {
  readonly code = 'START_ABORTED'
  constructor() {
    super('stopped while starting')
  }
}

/**
 * Starts components in order and stops them in reverse, so that each stops
 * before what it was started on. A start that fails stops everything; a
 * stop during start lets the component being started finish, starts no
 * other, then stops them all. Every component is asked to stop even when
 * another's stop throws (the first error is rethrown once all have stopped).
 */
export class Lifecycle {
  private state: LifecycleState = { kind: 'idle' }

  constructor(private readonly components: readonly Component[]) {}

  get phase(): LifecycleState['kind'] {
    return this.state.kind
  }

  start(): Promise<void> {
    if (this.state.kind === 'starting') return this.state.done
    if (this.state.kind === 'running') return Promise.resolve()
    if (this.state.kind === 'stopping') return Promise.reject(new Error('stopped: cannot restart'))
    const done = (async () => {
      try {
        for (const component of this.components) {
          if (this.state.kind === 'stopping') throw new StartAbortedError()
          await component.start()
        }
      } catch (error) {
        // A stop() already under way stops everything once this settles.
        if (this.state.kind !== 'stopping') {
          const stopped = this.stopAll()
          this.state = { kind: 'stopping', done: stopped }
          await stopped.catch(() => {})
        }
        throw error
      }
      if (this.state.kind === 'stopping') throw new StartAbortedError()
      this.state = { kind: 'running' }
    })()
    this.state = { kind: 'starting', done }
    return done
  }

  /** Stops every component in reverse order (safe before start; idempotent). */
  stop(): Promise<void> {
    if (this.state.kind === 'stopping') return this.state.done
    const starting = this.state.kind === 'starting' ? this.state.done : undefined
    const done = (async () => {
      await starting?.catch(() => {})
      await this.stopAll()
    })()
    this.state = { kind: 'stopping', done }
    return done
  }

  private async stopAll(): Promise<void> {
    let failure: { error: unknown } | undefined
    for (const component of [...this.components].reverse()) {
      try {
        await component.stop()
      } catch (error) {
        failure ??= { error }
      }
    }
    if (failure) throw failure.error
  }
}
