// Crash safety: a writer killed with SIGKILL at random moments must leave a
// store that opens, links from head to genesis with every height present,
// and holds no half-applied reorg.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openChainStore } from '../src/index.js'
import { genesis } from './chains.js'

const WRITER = new URL('./fixtures/crash-writer.ts', import.meta.url).pathname
const KILLS = 20

function startWriter(location: string, seed: number): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@chronos/source', WRITER, location, String(seed)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
}

/** Resolves once the writer has reported `count` committed changes. */
function committed(child: ChildProcess, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0
    let stderr = ''
    child.stderr!.on('data', (chunk) => (stderr += chunk))
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString().split('\n').length - 1
      if (seen >= count) resolve()
    })
    child.once('exit', (code) =>
      reject(new Error(`writer exited (${code}) after ${seen} changes: ${stderr}`)),
    )
  })
}

describe('crash safety', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chronos-crash-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it(`survives ${KILLS} SIGKILLs during appends and reorgs`, { timeout: 240_000 }, async () => {
    let lastHeight = 0
    for (let kill = 1; kill <= KILLS; kill++) {
      const child = startWriter(dir, kill * 7919)
      const exited = new Promise((resolve) => child.once('exit', resolve))
      // Let it commit a random number of changes, then kill it wherever it is.
      await committed(child, 5 + Math.floor(Math.random() * 40))
      child.kill('SIGKILL')
      await exited

      const store = await openChainStore({ genesis, location: dir })
      const report = await store.verify()
      expect(report, `after kill ${kill}`).toEqual({
        ok: true,
        height: store.height(),
        blocks: store.height() + 1,
      })
      // Every height is present and links back to genesis.
      let expected = store.head().block_header.hash
      for (let h = store.height(); h >= 0; h--) {
        const block = await store.getByHeight(h)
        expect(block?.block_header.hash, `height ${h}`).toBe(expected)
        expected = block!.block_header.prev_hash
      }
      expect(store.height()).toBeGreaterThanOrEqual(lastHeight - 4) // a reorg replaces at most 4
      lastHeight = store.height()
      await store.close()
    }
  })
})
