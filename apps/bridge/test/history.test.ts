// The bridge's own LevelDB (real, on a temp dir): the page's history
// survives a restart, bounded, and what comes back is validated.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { HistoryStore } from '../src/history.js'
import { NetworkView } from '../src/index.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-history-'))
  dirs.push(dir)
  return dir
}
const hash = (i: number) => i.toString(16).padStart(64, '0')

describe('bridge history', () => {
  it('brings back blocks (with their spread and times) and events after a restart, bounded in entries', async () => {
    const dir = tempDir()
    const first = new NetworkView()
    const store = await HistoryStore.open(dir, { maxBlocks: 3, maxEvents: 2 })
    await store.attach(first)
    for (const n of ['a', 'b']) first.updateNode(n, { height: 0, head: hash(0) })
    for (let i = 1; i <= 10; i++) {
      first.observe('a', {
        hash: hash(i),
        at: i * 1000,
        arrival: 'produced',
        height: i,
        confirmed: true,
      })
      first.observe('b', { hash: hash(i), at: i * 1000 + 40, arrival: 'push', via: 'a' })
      first.flush()
    }
    first.nodeDown('b')
    first.updateNode('b', { height: 10 })
    first.nodeDown('b')
    first.flush()
    const before = first.snapshot()
    await store.close()

    const second = new NetworkView()
    const reopened = await HistoryStore.open(dir, { maxBlocks: 3, maxEvents: 2 })
    await reopened.attach(second)
    const after = second.snapshot()
    expect(after.blocks.map((b) => b.height)).toEqual([8, 9, 10])
    expect(after.blocks.at(-1)).toEqual(before.blocks.find((b) => b.hash === hash(10)))
    expect(after.blocks.at(-1)).toMatchObject({ t100: 40, confirmed: true })
    expect(after.events.map((e) => e.kind)).toEqual(['node-up', 'node-down'])
    expect(after.nodes).toEqual([])
    await reopened.close()
  })

  it('drops an entry that does not validate instead of serving it', async () => {
    const dir = tempDir()
    const raw = new Level<string, string>(dir, { valueEncoding: 'utf8' })
    await raw.put(`b!${hash(1)}`, JSON.stringify({ hash: hash(1), height: 'one' }))
    await raw.put(`b!${hash(2)}`, '{not json')
    await raw.close()
    const store = await HistoryStore.open(dir)
    expect(await store.load()).toEqual({ blocks: [], events: [] })
    await store.close()
    const check = new Level<string, string>(dir, { valueEncoding: 'utf8' })
    expect(await check.keys().all()).toEqual([])
    await check.close()
  })
})
