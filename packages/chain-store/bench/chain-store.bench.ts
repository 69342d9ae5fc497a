// `pnpm bench` for the chain store: appending 10,000 blocks of 50
// transactions, against plain level batches writing the same block bytes.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BenchWorker,
  compareInterleaved,
  type InterleavedSide,
  printTable,
  writeResults,
} from '@chronos/bench-kit'
import { openChainStore } from '../src/index.js'
import { buildChain, genesis } from '../test/chains.js'

const BLOCKS = Number(process.env.CHRONOS_BENCH_BLOCKS ?? 10_000)
const chain = buildChain(genesis, BLOCKS, { transactions: 50 })
const blockBytes = JSON.stringify(chain[0]).length

async function withDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'chronos-bench-store-'))
  try {
    return await work(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

// Each side in its own process, steps of STEP blocks interleaved (see compareInterleaved):
// the CPU time of each process, compaction thread included, is that side's cost.
const STEP = 250
const workerScript = fileURLToPath(new URL('store-worker.ts', import.meta.url))
const appender = new BenchWorker(workerScript, ['append', String(BLOCKS)])
const rawWriter = new BenchWorker(workerScript, ['raw', String(BLOCKS)])
const side = (worker: BenchWorker) => async (): Promise<InterleavedSide> => {
  await worker.call('open')
  return {
    step: (i) => worker.call('write', i * STEP, Math.min(BLOCKS, (i + 1) * STEP)),
    close: () => worker.call('close'),
    cpuNs: () => worker.cpuNs(),
  }
}
const append = await compareInterleaved(
  'append_vs_raw_level_batch',
  side(appender),
  'level batch per block, same bytes',
  side(rawWriter),
  { steps: Math.ceil(BLOCKS / STEP), rounds: 21, goal: 1.4 },
)
await appender.close()
await rawWriter.close()

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
  `chain-store: ${BLOCKS} blocks of 50 transactions (${Math.round(blockBytes / 1024)} KiB each)`,
  [append],
)
console.log(`get_by_height_per_s: ${reads}`)
console.log(
  `\nwrote ${writeResults('chain-store', [append], { get_by_height_per_s: reads, blocks: BLOCKS })}`,
)
