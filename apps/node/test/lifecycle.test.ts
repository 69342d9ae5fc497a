// The node's lifecycle as a table: (phase, event) -> (phase, effects), with
// components that record what was asked of them. No sockets, no clock.
import { describe, expect, it } from 'vitest'
import { type Component, Lifecycle, StartAbortedError } from '../src/lifecycle.js'

interface Recorder {
  log: string[]
  components: Component[]
  /** Resolves once the held start has been called. */
  entered: Promise<void>
  /** Resolves the held start. */
  release(): void
}

function components(
  names: string[],
  behaviour: { failStart?: string; failStop?: string; holdStart?: string } = {},
): Recorder {
  const log: string[] = []
  let release = () => {}
  let enter = () => {}
  const entered = new Promise<void>((resolve) => (enter = resolve))
  return {
    log,
    entered,
    release: () => release(),
    components: names.map((name) => ({
      name,
      start: async () => {
        log.push(`start ${name}`)
        if (behaviour.holdStart === name) {
          enter()
          await new Promise<void>((resolve) => (release = resolve))
        }
        if (behaviour.failStart === name) throw new Error(`${name} cannot start`)
      },
      stop: async () => {
        log.push(`stop ${name}`)
        if (behaviour.failStop === name) throw new Error(`${name} cannot stop`)
      },
    })),
  }
}

describe('Lifecycle', () => {
  it('idle --start--> running: starts in order', async () => {
    const r = components(['store', 'sync', 'peers', 'gossip'])
    const life = new Lifecycle(r.components)
    expect(life.phase).toBe('idle')
    await life.start()
    expect(life.phase).toBe('running')
    expect(r.log).toEqual(['start store', 'start sync', 'start peers', 'start gossip'])
  })

  it('running --stop--> stopping: stops in reverse, once however often it is asked', async () => {
    const r = components(['store', 'sync', 'peers', 'gossip'])
    const life = new Lifecycle(r.components)
    await life.start()
    r.log.length = 0
    const first = life.stop()
    expect(life.stop()).toBe(first)
    await first
    expect(life.phase).toBe('stopping')
    expect(r.log).toEqual(['stop gossip', 'stop peers', 'stop sync', 'stop store'])
  })

  it('idle --stop--> stopping: every component stops (safe before start)', async () => {
    const r = components(['a', 'b'])
    const life = new Lifecycle(r.components)
    await life.stop()
    expect(r.log).toEqual(['stop b', 'stop a'])
    await expect(life.start()).rejects.toThrow(/cannot restart/)
  })

  it('starting --a start fails--> stopping: the error is rethrown and everything stops', async () => {
    const r = components(['a', 'b', 'c'], { failStart: 'b' })
    const life = new Lifecycle(r.components)
    await expect(life.start()).rejects.toThrow('b cannot start')
    expect(life.phase).toBe('stopping')
    expect(r.log).toEqual(['start a', 'start b', 'stop c', 'stop b', 'stop a'])
  })

  it('stopping --a stop fails--> every other component still stops; the first error is rethrown', async () => {
    const r = components(['a', 'b', 'c'], { failStop: 'b' })
    const life = new Lifecycle(r.components)
    await life.start()
    r.log.length = 0
    await expect(life.stop()).rejects.toThrow('b cannot stop')
    expect(r.log).toEqual(['stop c', 'stop b', 'stop a'])
  })

  it('starting --stop--> the component being started finishes, no other starts, all stop', async () => {
    const r = components(['a', 'b', 'c'], { holdStart: 'b' })
    const life = new Lifecycle(r.components)
    const started = life.start()
    await r.entered
    const stopped = life.stop()
    expect(life.phase).toBe('stopping')
    r.release()
    await expect(started).rejects.toBeInstanceOf(StartAbortedError)
    await stopped
    expect(r.log).toEqual(['start a', 'start b', 'stop c', 'stop b', 'stop a'])
  })
})
