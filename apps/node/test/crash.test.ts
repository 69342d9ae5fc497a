// Crash safety of a whole node: a producing node that is also syncing is
// SIGKILLed at 30 random moments. After every kill its store must open,
// verify from genesis to head, and the node must catch up again.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openChainStore } from '@chronos/chain-store'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChronosNode } from '../src/index.js'
import { run, stopChildren } from './cli-process.js'
import { makeGenesis, startNode, tempDir } from './network.js'

const KILLS = Number(process.env.CHRONOS_CRASH_KILLS ?? 30)
const running: ChronosNode[] = []
const cleanups: (() => void)[] = []
afterEach(async () => {
  stopChildren()
  await Promise.all(running.splice(0).map((n) => n.stop()))
  for (const cleanup of cleanups.splice(0)) cleanup()
})

describe('a node killed with SIGKILL', () => {
  it(`recovers its store and catches up after each of ${KILLS} kills`, async () => {
    const genesis = makeGenesis(200)
    const dir = tempDir('chronos-crash-')
    cleanups.push(dir.remove)
    const genesisFile = join(dir.path, 'genesis.json')
    writeFileSync(genesisFile, JSON.stringify(genesis))
    const a = await startNode({ genesis, produce: true })
    const b = await startNode({ genesis, produce: true, peers: [a.address] })
    running.push(a, b)
    const data = join(dir.path, 'victim')
    let seed = 99
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    const start = () =>
      run([
        'start',
        '--data',
        data,
        '--genesis',
        genesisFile,
        '--listen',
        '127.0.0.1:0',
        '--peer',
        a.address,
        '--peer',
        b.address,
        '--produce',
        '--tx-rate',
        '50',
        '--status-interval-ms',
        '100',
        '--log-level',
        'debug',
      ])
    let lastHeight = 0
    for (let kill = 0; kill < KILLS; kill++) {
      const victim = start()
      const started = await victim.logLine((l) => l.msg === 'node started')
      expect(started.height as number).toBeGreaterThanOrEqual(lastHeight)
      // A random moment: after 0-5 store writes (synced runs or confirmations) and a random delay.
      const writes = Math.floor(random() * 6)
      if (writes > 0)
        await victim.logLine(
          (l) =>
            (l.msg === 'synced' || l.msg === 'block confirmed') &&
            (l.height as number) >= (started.height as number) + writes,
        )
      await new Promise((resolve) => setTimeout(resolve, random() * 150))
      victim.child.kill('SIGKILL')
      await victim.exited
      const store = await openChainStore({ genesis, location: join(data, 'chain') })
      const report = await store.verify()
      lastHeight = store.height()
      await store.close()
      expect(report).toMatchObject({ ok: true, height: lastHeight })
    }
    // A last restart catches up with the network.
    const victim = start()
    const target = a.store.height()
    await victim.logLine(
      (l) => (l.msg === 'synced' || l.msg === 'block confirmed') && (l.height as number) >= target,
    )
    victim.child.kill('SIGTERM')
    expect(await victim.exited).toBe(0)
  }, 240_000)
})
