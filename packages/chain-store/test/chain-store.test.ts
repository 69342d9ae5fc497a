import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type ChainDatabase,
  type ChainStore,
  GenesisMismatchError,
  type HeadChange,
  InvalidReorgError,
  NotOnHeadError,
  openChainStore,
  StoreClosedError,
  StoreCorruptError,
} from '../src/index.js'
import { buildChain, genesis, nextBlock, otherGenesis } from './chains.js'

const memoryDb = () =>
  new MemoryLevel<string, string>({ valueEncoding: 'utf8' }) as unknown as ChainDatabase

describe('chain store (memory-level)', () => {
  let store: ChainStore
  beforeEach(async () => {
    store = await openChainStore({ genesis, db: memoryDb() })
  })
  afterEach(() => store.close())

  it('starts at the genesis', async () => {
    expect(store.head()).toEqual(genesis)
    expect(store.height()).toBe(0)
    expect(await store.getByHeight(0)).toEqual(genesis)
    expect(await store.has(genesis.block_header.hash)).toBe(true)
    expect(store.params.network).toBe('store-test')
  })

  it('appends blocks and finds them by height and by hash, and iterates a range in order', async () => {
    const chain = buildChain(genesis, 10)
    for (const block of chain) await store.append(block)
    expect(store.height()).toBe(10)
    expect(store.head()).toEqual(chain[9])
    expect(await store.getByHeight(4)).toEqual(chain[3])
    expect(await store.getByHash(chain[6]!.block_header.hash)).toEqual(chain[6])
    expect(await store.heightOf(chain[6]!.block_header.hash)).toBe(7)
    expect(await store.getByHeight(11)).toBeUndefined()
    const range = []
    for await (const block of store.blocks(3, 5)) range.push(block.block_header.height)
    expect(range).toEqual([3, 4, 5])
  })

  it('serialises concurrent appends in call order', async () => {
    const chain = buildChain(genesis, 20)
    await Promise.all(chain.map((block) => store.append(block)))
    expect(store.height()).toBe(20)
    expect(await store.verify()).toEqual({ ok: true, height: 20, blocks: 21 })
  })

  it('refuses a block that does not extend the head and changes nothing', async () => {
    const [first, second] = buildChain(genesis, 2)
    await store.append(first!)
    const sameRound = nextBlock(genesis, { producer: 'other' }) // sibling of `first`
    await expect(store.append(sameRound)).rejects.toThrow(NotOnHeadError)
    await expect(store.append(nextBlock(second!))).rejects.toMatchObject({ code: 'NOT_ON_HEAD' })
    expect(store.head()).toEqual(first)
    expect(await store.has(sameRound.block_header.hash)).toBe(false)
  })

  it('appends a run of blocks in one batch, or none of them when one does not link', async () => {
    const chain = buildChain(genesis, 10)
    const changes: number[] = []
    store.onHead(({ head }) => changes.push(head.block_header.height))
    await store.appendMany(chain.slice(0, 6))
    expect(changes).toEqual([6])
    const broken = [
      chain[6]!,
      chain[7]!,
      nextBlock(chain[7]!, { producer: 'x', step: 0 }),
      chain[9]!,
    ]
    await expect(store.appendMany(broken)).rejects.toMatchObject({ code: 'NOT_ON_HEAD' })
    expect(store.height()).toBe(6)
    expect(await store.has(chain[6]!.block_header.hash)).toBe(false)
    expect(await store.verify()).toEqual({ ok: true, height: 6, blocks: 7 })
  })

  it('reorgs the suffix above a fork atomically and reports what it removed', async () => {
    const main = buildChain(genesis, 6)
    for (const block of main) await store.append(block)
    const fork = buildChain(main[2]!, 4, { producer: 'node-b' }) // heights 4..7
    const changes: HeadChange[] = []
    store.onHead((change) => changes.push(change))
    await store.reorg(3, fork)
    expect(store.height()).toBe(7)
    expect(store.head()).toEqual(fork[3])
    expect(await store.getByHeight(4)).toEqual(fork[0])
    for (const gone of main.slice(3)) expect(await store.has(gone.block_header.hash)).toBe(false)
    expect(await store.has(main[2]!.block_header.hash)).toBe(true)
    expect(changes).toHaveLength(1)
    expect(changes[0]!.forkHeight).toBe(3)
    expect(changes[0]!.removed.map((b) => b.block_header.height)).toEqual([4, 5, 6])
    expect(await store.verify()).toMatchObject({ ok: true, height: 7 })
  })

  it('reorgs to a shorter chain too (the caller decides what is better)', async () => {
    for (const block of buildChain(genesis, 5)) await store.append(block)
    const fork = buildChain(genesis, 2, { producer: 'node-b' })
    await store.reorg(0, fork)
    expect(store.height()).toBe(2)
    expect(await store.getByHeight(3)).toBeUndefined()
    expect(await store.verify()).toMatchObject({ ok: true, height: 2 })
  })

  it('refuses a reorg whose blocks do not link, or a fork above the head, and changes nothing', async () => {
    const main = buildChain(genesis, 4)
    for (const block of main) await store.append(block)
    const unrelated = buildChain(main[0]!, 2, { producer: 'node-c' }) // starts at height 2
    await expect(store.reorg(2, unrelated)).rejects.toThrow(InvalidReorgError)
    await expect(store.reorg(9, buildChain(main[3]!, 1))).rejects.toThrow(/outside 0\.\.4/)
    await expect(store.reorg(2, [])).rejects.toThrow(InvalidReorgError)
    expect(store.head()).toEqual(main[3])
    expect(await store.verify()).toMatchObject({ ok: true, height: 4 })
  })

  it('refuses work once closed', async () => {
    await store.close()
    await expect(store.append(nextBlock(genesis))).rejects.toThrow(StoreClosedError)
    await expect(store.getByHeight(0)).rejects.toThrow(StoreClosedError)
  })
})

describe('chain store on disk (classic-level)', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chronos-store-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  const rawDb = () => new Level<string, string>(dir, { valueEncoding: 'utf8' })

  it('persists the chain across close and reopen', async () => {
    const chain = buildChain(genesis, 25, { transactions: 5 })
    let store = await openChainStore({ genesis, location: dir })
    for (const block of chain) await store.append(block)
    await store.close()
    store = await openChainStore({ genesis, location: dir })
    expect(store.head()).toEqual(chain[24])
    expect(await store.getByHash(chain[10]!.block_header.hash)).toEqual(chain[10])
    expect(await store.verify()).toEqual({ ok: true, height: 25, blocks: 26 })
    await store.close()
  })

  it('refuses to open a store made for another genesis, naming both hashes', async () => {
    await (await openChainStore({ genesis, location: dir })).close()
    const error = await openChainStore({ genesis: otherGenesis, location: dir }).catch((e) => e)
    expect(error).toBeInstanceOf(GenesisMismatchError)
    expect(error.message).toContain(genesis.block_header.hash)
    expect(error.message).toContain(otherGenesis.block_header.hash)
  })

  it('detects a genesis record without blocks on open', async () => {
    await (await openChainStore({ genesis, location: dir })).close()
    const db = rawDb()
    await db.del('block:0000000000000000')
    await db.close()
    const error = await openChainStore({ genesis, location: dir }).catch((e) => e)
    expect(error).toBeInstanceOf(StoreCorruptError)
    expect(error).toMatchObject({ code: 'STORE_CORRUPT', height: 0 })
  })

  it('detects a head whose hash index is missing, and a gap below the head, on open', async () => {
    const chain = buildChain(genesis, 4)
    const store = await openChainStore({ genesis, location: dir })
    for (const block of chain) await store.append(block)
    await store.close()
    let db = rawDb()
    await db.del(`hash:${chain[3]!.block_header.hash}`)
    await db.close()
    await expect(openChainStore({ genesis, location: dir })).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      height: 4,
    })
    db = rawDb()
    await db.put(`hash:${chain[3]!.block_header.hash}`, '4')
    await db.del('block:0000000000000003')
    await db.close()
    await expect(openChainStore({ genesis, location: dir })).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringMatching(/missing below the head/),
    })
  })

  it('verify reports the first bad height: missing, then altered', async () => {
    const chain = buildChain(genesis, 8)
    let store = await openChainStore({ genesis, location: dir })
    for (const block of chain) await store.append(block)
    await store.close()

    let db = rawDb()
    const altered = { ...chain[5]!, transactions: [{ forged: true }] }
    await db.put('block:0000000000000006', JSON.stringify(altered))
    await db.close()
    store = await openChainStore({ genesis, location: dir })
    expect(await store.verify()).toMatchObject({
      ok: false,
      height: 6,
      problem: expect.stringMatching(/tx_root/),
    })
    await store.close()

    db = rawDb()
    await db.del('block:0000000000000003')
    await db.close()
    store = await openChainStore({ genesis, location: dir })
    expect(await store.verify()).toEqual({ ok: false, height: 3, problem: 'block missing' })
    await store.close()
  })
})
