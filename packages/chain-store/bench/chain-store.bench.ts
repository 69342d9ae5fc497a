// `pnpm bench` for the chain store: appending 10,000 blocks of 50
// transactions, against plain level batches writing the same block bytes.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compareAsync, printTable, writeResults } from '@chronos/bench-kit'
import { Level } from 'level'
import { openChainStore } from '../src/index.js'
import { buildChain, genesis } from '../test/chains.js'

const BLOCKS = Number(process.env.CHRONOS_BENCH_BLOCKS ?? 10_000)
const chain = buildChain(genesis, BLOCKS, { transactions: 50 })
const encoded = chain.map((block) => JSON.stringify(block))
const key = (height: number) => `block:${String(height).padStart(16, '0')}`

async function withDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'chronos-bench-store-'))
  try {
    return await work(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const appendAll = () =>
  withDir(async (location) => {
    const store = await openChainStore({ genesis, location })
    for (const block of chain) await store.append(block)
    await store.close()
  })

const rawBatches = () =>
  withDir(async (location) => {
    const db = new Level<string, string>(location, { valueEncoding: 'utf8' })
    await db.open()
    for (let i = 0; i < encoded.length; i++)
      await db.batch([{ type: 'put', key: key(i + 1), value: encoded[i]! }])
    await db.close()
  })

const append = await compareAsync(
  'append_vs_raw_level_batch',
  appendAll,
  'level batch per block, same bytes',
  rawBatches,
  {
    rounds: 7,
    goal: 1.4,
    // Both sides run in this process (LevelDB's threads included): CPU time leaves out the waits
    // for a core on a shared machine.
    clock: 'cpu',
  },
)

const reads = await withDir(async (location) => {
  const store = await openChainStore({ genesis, location })
  await store.reorg(0, chain)
  const count = 20_000
  let seed = 42
  const start = process.hrtime.bigint()
  for (let i = 0; i < count; i++) {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0
    await store.getByHeight(1 + (seed % BLOCKS))
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  await store.close()
  return Math.round(count / seconds)
})

printTable(
  `chain-store: ${BLOCKS} blocks of 50 transactions (${Math.round(encoded[0]!.length / 1024)} KiB each)`,
  [append],
)
console.log(`get_by_height_per_s: ${reads}`)
console.log(
  `\nwrote ${writeResults('chain-store', [append], { get_by_height_per_s: reads, blocks: BLOCKS })}`,
)
