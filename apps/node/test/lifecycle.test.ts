// The node's lifecycle as a table: (phase, event) -> (phase, effects), with
// services that record what was asked of them (no sockets, no clock); then
// the real node's parts under it.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { StoreClosedError } from '@chronos/chain-store'
import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/config.js'
import { Lifecycle, type Part, StartAbortedError, StartFailedError } from '../src/lifecycle.js'
import { ChronosNode } from '../src/node.js'
import { makeGenesis, silent } from './network.js'

interface Recorder {
  log: string[]
  parts: Part[]
  /** Resolves once the held start has been called. */
  entered: Promise<void>
  /** Resolves the held start. */
  release(): void
}

function parts(
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
    parts: names.map((name) => [
      name,
      {
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
      },
    ]),
  }
}

const NODE = ['data dir', 'store', 'api', 'sync', 'peers', 'gossip']

describe('Lifecycle', () => {
  it.each([
    {
      case: 'idle --start--> running: starts in order',
      names: NODE,
      run: async (life: Lifecycle) => life.start(),
      phase: 'running',
      log: NODE.map((n) => `start ${n}`),
    },
    {
      case: 'running --stop--> stopping: stops in reverse',
      names: NODE,
      run: async (life: Lifecycle) => {
        await life.start()
        await life.stop()
      },
      phase: 'stopping',
      log: [...NODE.map((n) => `start ${n}`), ...[...NODE].reverse().map((n) => `stop ${n}`)],
    },
    {
      case: 'idle --stop--> stopping: every part stops (safe before start)',
      names: ['a', 'b'],
      run: async (life: Lifecycle) => life.stop(),
      phase: 'stopping',
      log: ['stop b', 'stop a'],
    },
    {
      case: 'running --start--> running: a second start starts nothing',
      names: ['a', 'b'],
      run: async (life: Lifecycle) => {
        await life.start()
        await life.start()
      },
      phase: 'running',
      log: ['start a', 'start b'],
    },
  ])('$case', async ({ names, run, phase, log }) => {
    const r = parts(names)
    const life = new Lifecycle(r.parts)
    expect(life.phase).toBe('idle')
    await run(life)
    expect(life.phase).toBe(phase)
    expect(r.log).toEqual(log)
  })

  it('stop is idempotent: every later stop() is the same promise, and nothing stops twice', async () => {
    const r = parts(['a', 'b'])
    const life = new Lifecycle(r.parts)
    await life.start()
    const first = life.stop()
    expect(life.stop()).toBe(first)
    await first
    expect(life.stop()).toBe(first)
    expect(r.log).toEqual(['start a', 'start b', 'stop b', 'stop a'])
  })

  it('stopping --start--> refused: a stopped lifecycle does not restart', async () => {
    const r = parts(['a'])
    const life = new Lifecycle(r.parts)
    await life.stop()
    await expect(life.start()).rejects.toThrow(/cannot restart/)
    expect(r.log).toEqual(['stop a'])
  })

  it.each([
    { failing: 'a', log: ['start a', 'stop a'] },
    { failing: 'b', log: ['start a', 'start b', 'stop b', 'stop a'] },
    { failing: 'c', log: ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a'] },
  ])(
    'starting --$failing fails--> stopping: the parts already started stop, in reverse, and no later one starts',
    async ({ failing, log }) => {
      const r = parts(['a', 'b', 'c'], { failStart: failing })
      const life = new Lifecycle(r.parts)
      const failure = await life.start().catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(StartFailedError)
      expect(failure).toMatchObject({ code: 'START_FAILED', part: failing })
      expect((failure as Error).cause).toMatchObject({ message: `${failing} cannot start` })
      expect(life.phase).toBe('stopping')
      expect(r.log).toEqual(log)
      // A stop after the failure is the stop already done.
      await life.stop()
      expect(r.log).toEqual(log)
    },
  )

  it('stopping --a stop fails--> every other part still stops; the first error is rethrown', async () => {
    const r = parts(['a', 'b', 'c'], { failStop: 'b' })
    const life = new Lifecycle(r.parts)
    await life.start()
    r.log.length = 0
    await expect(life.stop()).rejects.toThrow('b cannot stop')
    expect(r.log).toEqual(['stop c', 'stop b', 'stop a'])
  })

  it('starting --stop--> the part being started finishes, no other starts, the started ones stop', async () => {
    const r = parts(['a', 'b', 'c'], { holdStart: 'b' })
    const life = new Lifecycle(r.parts)
    const started = life.start()
    await r.entered
    const stopped = life.stop()
    expect(life.phase).toBe('stopping')
    r.release()
    await expect(started).rejects.toBeInstanceOf(StartAbortedError)
    await stopped
    expect(r.log).toEqual(['start a', 'start b', 'stop b', 'stop a'])
  })
})

describe('ChronosNode composes its parts under one Lifecycle', () => {
  async function openNode(api: string) {
    const config = resolveConfig(
      {},
      { data: '(memory)', genesis: '(in memory)', listen: '127.0.0.1:0', api },
    )
    return ChronosNode.open({
      config,
      genesis: makeGenesis(1000),
      logger: silent,
      db: new MemoryLevel({ valueEncoding: 'utf8' }),
    })
  }

  it('an API whose port is taken fails the start by name; the store started before it is closed, no peer listens', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const { port } = taken.address() as AddressInfo
    try {
      const node = await openNode(`127.0.0.1:${port}`)
      const failure = await node.start().catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(StartFailedError)
      expect(failure).toMatchObject({ part: 'api', cause: { code: 'EADDRINUSE' } })
      // The parts before the API stopped (the store is closed); those after it never started.
      await expect(node.store.getByHeight(0)).rejects.toThrow(StoreClosedError)
      expect(node.lifecycle).toBe('stopping')
      expect(node.peers.address).toBe('0.0.0.0:0')
      await node.stop() // idempotent after a failed start
    } finally {
      taken.close()
    }
  })

  it('starts the API with the node and stops it with the node, once however often stop() is called', async () => {
    const node = await openNode('127.0.0.1:0')
    await node.start()
    const address = node.apiAddress!
    const status = await fetch(`http://${address}/status`)
    expect(status.status).toBe(200)
    const first = node.stop()
    expect(node.stop()).toBe(first)
    await first
    expect(node.apiAddress).toBeUndefined()
    await expect(fetch(`http://${address}/status`)).rejects.toThrow()
    await expect(node.store.getByHeight(0)).rejects.toThrow(StoreClosedError)
  })
})
