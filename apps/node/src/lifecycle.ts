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

/**
 * Starts components in order and stops them in reverse, so that each stops
 * before what it was started on. A start that fails stops everything, and
 * every component is asked to stop even when another's stop throws (the
 * first error is rethrown once all have stopped).
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
        for (const component of this.components) await component.start()
      } catch (error) {
        await this.stop().catch(() => {})
        throw error
      }
      this.state = { kind: 'running' }
    })()
    this.state = { kind: 'starting', done }
    return done
  }

  stop(): Promise<void> {
    if (this.state.kind === 'stopping') return this.state.done
    const done = (async () => {
      let failure: { error: unknown } | undefined
      for (const component of [...this.components].reverse()) {
        try {
          await component.stop()
        } catch (error) {
          failure ??= { error }
        }
      }
      if (failure) throw failure.error
    })()
    this.state = { kind: 'stopping', done }
    return done
  }
}
