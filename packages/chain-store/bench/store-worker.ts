// One side of the chain-store benchmark in a process of its own (so its
// LevelDB compaction thread bills only this side): `append` appends the
// chain to a chain-store, `raw` writes the same block bytes with one plain
// level batch per block. Steps: open (a fresh directory), write(from, to)
// (chain indices, end exclusive), close (close the database, remove it).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serveBenchWorker } from '@chronos/bench-kit'
import { Level } from 'level'
import { type ChainStore, openChainStore } from '../src/index.js'
import { buildChain, genesis } from '../test/chains.js'

const [role, blocks] = [process.argv[2], Number(process.argv[3])]
const chain = buildChain(genesis, blocks, { transactions: 50 })
const encoded = chain.map((block) => JSON.stringify(block))
const key = (height: number) => `block:${String(height).padStart(16, '0')}`

let dir = ''
let store: ChainStore | undefined
let db: Level<string, string> | undefined

serveBenchWorker({
  async open() {
    dir = await mkdtemp(join(tmpdir(), `chronos-bench-store-${role}-`))
    if (role === 'append') store = await openChainStore({ genesis, location: dir })
    else {
      db = new Level<string, string>(dir, { valueEncoding: 'utf8' })
      await db.open()
    }
  },
  async write(from: number, to: number) {
    if (store) for (let i = from; i < to; i++) await store.append(chain[i]!)
    else
      for (let i = from; i < to; i++)
        await db!.batch([{ type: 'put', key: key(i + 1), value: encoded[i]! }])
  },
  async close() {
    await (store ?? db)!.close()
    store = db = undefined
    await rm(dir, { recursive: true, force: true })
  },
})
