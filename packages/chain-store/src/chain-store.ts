/**
 * The confirmed chain. Every change (append or reorg) is one LevelDB batch,
 * so a crash leaves the store either before or after it, never between.
 * The head is cached in memory and replaced only after its batch committed.
 */
import {
  type Block,
  checkValidOnParent,
  type NetworkParams,
  readNetworkParams,
  type Service,
} from '@chronos/codec'
import type { AbstractLevel } from 'abstract-level'
import { Level } from 'level'
import {
  GenesisMismatchError,
  InvalidReorgError,
  NotOnHeadError,
  StoreClosedError,
  StoreCorruptError,
} from './errors.js'
import { ALL_BLOCKS, blockKey, GENESIS_KEY, hashKey, heightOfKey } from './keys.js'
import { type VerifyReport, verifyChain } from './verify.js'

/** Any abstract-level database with string keys and values (classic-level, memory-level, ...). */
export type ChainDatabase = AbstractLevel<string | Uint8Array, string, string>

export interface OpenChainStoreOptions {
  /** The genesis block that defines the network. */
  genesis: Block
  /** A directory for LevelDB. Give this or `db`. */
  location?: string
  /** An already created database, e.g. `new MemoryLevel({valueEncoding: 'utf8'})`. */
  db?: ChainDatabase
}

type BatchOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string }

/** What changed when the head moved. */
export interface HeadChange {
  head: Block
  /** Height of the last block both the old and the new chain share. */
  forkHeight: number
  /** Blocks removed from the confirmed chain, lowest first (empty for an append). */
  removed: Block[]
}

export type HeadListener = (change: HeadChange) => void

/** A string key-value space beside the chain (see `ChainStore.sublevel`). */
export interface KeyValueSpace {
  entries(): AsyncIterable<[string, string]>
  put(key: string, value: string): Promise<void>
  del(key: string): Promise<void>
}

export class ChainStore implements Service {
  readonly genesis: Block
  readonly params: NetworkParams
  private readonly db: ChainDatabase
  private current: Block
  private writing: Promise<unknown> = Promise.resolve()
  private closed = false
  private readonly listeners = new Set<HeadListener>()

  private constructor(db: ChainDatabase, genesis: Block, params: NetworkParams, head: Block) {
    this.db = db
    this.genesis = genesis
    this.params = params
    this.current = head
  }

  /** Opens (or creates) the store for `genesis`; throws GENESIS_MISMATCH or STORE_CORRUPT. */
  static async open(options: OpenChainStoreOptions): Promise<ChainStore> {
    const params = readNetworkParams(options.genesis)
    const db = options.db ?? openLevel(options.location)
    await db.open()
    try {
      const head = await loadOrInitialise(db, options.genesis)
      return new ChainStore(db, options.genesis, params, head)
    } catch (error) {
      await db.close()
      throw error
    }
  }

  /** The newest confirmed block. */
  head(): Block {
    return this.current
  }

  height(): number {
    return this.current.block_header.height
  }

  async getByHeight(height: number): Promise<Block | undefined> {
    this.assertOpen()
    if (!Number.isSafeInteger(height) || height < 0 || height > this.height()) return undefined
    const json = await this.db.get(blockKey(height))
    return json === undefined ? undefined : (JSON.parse(json) as Block)
  }

  /** The confirmed block with this hash, if it is on the chain. */
  async getByHash(hash: string): Promise<Block | undefined> {
    const height = await this.heightOf(hash)
    return height === undefined ? undefined : this.getByHeight(height)
  }

  /** Height of a confirmed block by hash. */
  async heightOf(hash: string): Promise<number | undefined> {
    this.assertOpen()
    const stored = await this.db.get(hashKey(hash))
    return stored === undefined ? undefined : Number(stored)
  }

  async has(hash: string): Promise<boolean> {
    return (await this.heightOf(hash)) !== undefined
  }

  /** Confirmed blocks from `from` to `to` (inclusive, default the head), in height order. */
  async *blocks(from = 0, to = this.height()): AsyncGenerator<Block> {
    this.assertOpen()
    const last = Math.min(to, this.height())
    if (from > last) return
    for await (const json of this.db.values({ gte: blockKey(from), lte: blockKey(last) })) {
      yield JSON.parse(json) as Block
    }
  }

  /** Appends a block that extends the head (valid on it: link, height, timestamp, round). */
  append(block: Block): Promise<void> {
    return this.appendMany([block])
  }

  /**
   * Appends a run of blocks, the first on the head and each valid on the
   * one before, in one atomic batch (one head change). Sync uses it to
   * write downloaded blocks without a disk round trip per block.
   */
  appendMany(blocks: readonly Block[]): Promise<void> {
    return this.exclusive(async () => {
      if (blocks.length === 0) return
      const head = this.current
      let parent = head
      const ops: BatchOp[] = []
      for (const block of blocks) {
        const check = checkValidOnParent(block, parent, this.params)
        if (!check.ok)
          throw new NotOnHeadError(
            parent === head
              ? check.message
              : `at height ${block.block_header.height}: ${check.message}`,
          )
        ops.push(...putBlock(block))
        parent = block
      }
      await this.db.batch(ops)
      this.current = parent
      this.emit({ head: parent, forkHeight: head.block_header.height, removed: [] })
    })
  }

  /**
   * Replaces every block above `forkHeight` with `blocks` in one batch.
   * `blocks` must start at forkHeight + 1 and each be valid on the one
   * before; forkHeight may be the head's height (a multi-block append).
   * Which chain is better is the caller's decision.
   */
  reorg(forkHeight: number, blocks: readonly Block[]): Promise<void> {
    return this.exclusive(async () => {
      const headHeight = this.height()
      if (blocks.length === 0) throw new InvalidReorgError('no blocks given')
      if (!Number.isSafeInteger(forkHeight) || forkHeight < 0 || forkHeight > headHeight) {
        throw new InvalidReorgError(`fork height ${forkHeight} is outside 0..${headHeight}`)
      }
      const base = await this.getByHeight(forkHeight)
      if (!base) throw new StoreCorruptError('block missing', forkHeight)
      let parent = base
      for (const block of blocks) {
        const check = checkValidOnParent(block, parent, this.params)
        if (!check.ok)
          throw new InvalidReorgError(`at height ${block.block_header.height}: ${check.message}`)
        parent = block
      }
      const removed: Block[] = []
      for await (const block of this.blocks(forkHeight + 1, headHeight)) removed.push(block)
      const ops: BatchOp[] = []
      for (const old of removed) {
        ops.push({ type: 'del', key: hashKey(old.block_header.hash) })
        ops.push({ type: 'del', key: blockKey(old.block_header.height) })
      }
      for (const block of blocks) ops.push(...putBlock(block))
      const newHead = blocks[blocks.length - 1]!
      await this.db.batch(ops)
      this.current = newHead
      this.emit({ head: newHead, forkHeight, removed })
    })
  }

  /**
   * A key-value space of its own in the same database, for what a node
   * keeps beside its chain (the address book). Its keys never meet the
   * chain's: a sublevel prefixes them with `!name!`.
   */
  sublevel(name: string): KeyValueSpace {
    const space = this.db.sublevel<string, string>(name, {
      keyEncoding: 'utf8',
      valueEncoding: 'utf8',
    })
    return {
      entries: () => space.iterator(),
      put: (key, value) => space.put(key, value),
      del: (key) => space.del(key),
    }
  }

  /** Walks the whole chain from genesis; reports the first bad height. */
  verify(): Promise<VerifyReport> {
    return this.exclusive(() => verifyChain(this.db, this.genesis, this.params))
  }

  /** Called after every committed change of the head. Returns an unsubscribe function. */
  onHead(listener: HeadListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** A store is in service once `open()` resolves: nothing more to acquire. */
  async start(): Promise<void> {}

  /** The `Service` name of `close()`. */
  stop(): Promise<void> {
    return this.close()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.writing.catch(() => {})
    this.listeners.clear()
    await this.db.close()
  }

  private emit(change: HeadChange): void {
    for (const listener of this.listeners) listener(change)
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError()
  }

  /** Runs writes one at a time, in call order. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreClosedError())
    const run = this.writing.then(work, work)
    this.writing = run.catch(() => {})
    return run
  }
}

function openLevel(location: string | undefined): ChainDatabase {
  if (!location) throw new TypeError('openChainStore needs `location` or `db`')
  return new Level<string, string>(location, {
    keyEncoding: 'utf8',
    valueEncoding: 'utf8',
  }) as unknown as ChainDatabase
}

function putBlock(block: Block): BatchOp[] {
  const { height, hash } = block.block_header
  return [
    { type: 'put', key: blockKey(height), value: JSON.stringify(block) },
    { type: 'put', key: hashKey(hash), value: String(height) },
  ]
}

/** Checks the records a node relies on at start; a full walk is `verify()`. */
async function loadOrInitialise(db: ChainDatabase, genesis: Block): Promise<Block> {
  const genesisHash = genesis.block_header.hash
  const stored = await db.get(GENESIS_KEY)
  if (stored === undefined) {
    for await (const _ of db.keys({ limit: 1 }))
      throw new StoreCorruptError('data present but no genesis record')
    await db.batch([{ type: 'put', key: GENESIS_KEY, value: genesisHash }, ...putBlock(genesis)])
    return genesis
  }
  if (stored !== genesisHash) throw new GenesisMismatchError(stored, genesisHash)

  const parse = (json: string, height: number): Block => {
    try {
      return JSON.parse(json) as Block
    } catch {
      throw new StoreCorruptError('block record unreadable', height)
    }
  }
  // The two highest blocks: the head and the parent it must link to.
  const top: [number, Block][] = []
  for await (const [key, json] of db.iterator({ ...ALL_BLOCKS, reverse: true, limit: 2 })) {
    top.push([heightOfKey(key), parse(json, heightOfKey(key))])
  }
  const [headEntry, parentEntry] = top
  if (!headEntry) throw new StoreCorruptError('no blocks stored', 0)
  const [height, head] = headEntry
  if (head.block_header.height !== height) {
    throw new StoreCorruptError(`record holds height ${head.block_header.height}`, height)
  }
  if ((await db.get(hashKey(head.block_header.hash))) !== String(height)) {
    throw new StoreCorruptError('hash index does not point at the head', height)
  }
  if (height === 0) {
    if (head.block_header.hash !== genesisHash)
      throw new StoreCorruptError('genesis block missing or different', 0)
    return head
  }
  if (!parentEntry || parentEntry[0] !== height - 1) {
    throw new StoreCorruptError(
      'block missing below the head',
      parentEntry ? parentEntry[0] + 1 : 0,
    )
  }
  if (parentEntry[1].block_header.hash !== head.block_header.prev_hash) {
    throw new StoreCorruptError('head does not link to its parent', height)
  }
  const storedGenesis = await db.get(blockKey(0))
  if (storedGenesis === undefined || parse(storedGenesis, 0).block_header.hash !== genesisHash) {
    throw new StoreCorruptError('genesis block missing or different', 0)
  }
  return head
}
