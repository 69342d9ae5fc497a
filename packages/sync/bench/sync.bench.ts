// `pnpm bench` for sync: a fresh node pulling 10,000 blocks of 20
// transactions over loopback TCP (from one peer, then from four), against
// appending the same blocks straight into a chain-store. Same run, same
// disk, alternating rounds; ratios are medians of per-round ratios.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BenchWorker,
  compareInterleaved,
  type InterleavedSide,
  printTable,
  processCpuNs,
  writeResults,
} from '@chronos/bench-kit'
import { type ChainStore, openChainStore } from '@chronos/chain-store'
import { PeerManager } from '@chronos/peer'
import { tcpTransport } from '@chronos/transport'
import { SyncEngine } from '../src/index.js'
import { buildChain, chainStatus, genesis, noGossip } from '../test/helpers.js'

const BLOCKS = Number(process.env.CHRONOS_BENCH_BLOCKS ?? 10_000)
const WINDOW = Number(process.env.CHRONOS_BENCH_WINDOW ?? 64)
const ROUNDS = Number(process.env.CHRONOS_BENCH_ROUNDS ?? 11)
const chain = buildChain(genesis, BLOCKS, { tag: 'bench', transactions: 20 })

async function withStore<T>(work: (store: ChainStore) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'chronos-bench-sync-'))
  const store = await openChainStore({ genesis, location: dir })
  try {
    return await work(store)
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

// The serving peers run in another process, as real peers would, sharing one preloaded store.
// Its CPU time is part of what a sync costs: every reply of the worker reports it.
const source = new BenchWorker(fileURLToPath(new URL('source-node.ts', import.meta.url)), [
  String(BLOCKS),
  '4',
])
const sourceAddresses = (await source.call<string[]>('addresses')).value

const appendDirectly = () =>
  withStore(async (store) => {
    for (const block of chain) await store.append(block)
  })

const syncFrom = (count: number) => () =>
  withStore(async (store) => {
    let sync!: SyncEngine
    const peers = new PeerManager({
      transport: tcpTransport(),
      listen: '127.0.0.1:0',
      peers: sourceAddresses.slice(0, count),
      chain: chainStatus(store),
      handlers: { ...noGossip, pull: (h) => sync.serve(h) },
    })
    sync = new SyncEngine({ store, peers, window: WINDOW })
    const done = new Promise<void>((resolve) => {
      const off = store.onHead(({ head }) => {
        if (head.block_header.height < BLOCKS) return
        off()
        resolve()
      })
    })
    // Wait for every source before the first status, so the range is spread from the start.
    await peers.start()
    await done
    sync.stop()
    await peers.stop()
  })

// One step per side (a sync cannot be cut into steps without changing what it does); each side
// has fresh state per round. Sync is billed this process's CPU time plus the serving process's,
// the local append this process's alone.
const bothProcesses = async () => processCpuNs() + (await source.cpuNs())
const syncSide = (count: number) => async (): Promise<InterleavedSide> => ({
  step: syncFrom(count),
  cpuNs: bothProcesses,
})
const appendSide = async (): Promise<InterleavedSide> => ({ step: appendDirectly })
const one = await compareInterleaved(
  'sync_vs_store_append',
  syncSide(1),
  'chain-store append',
  appendSide,
  { steps: 1, rounds: ROUNDS, goal: 2 },
)
const four = await compareInterleaved(
  'sync_4_peers_vs_store_append',
  syncSide(4),
  'chain-store append',
  appendSide,
  { steps: 1, rounds: ROUNDS, goal: 1.5 },
)

await source.call('stop')
await source.close()

printTable(`sync: ${BLOCKS} blocks of 20 transactions, window ${WINDOW}`, [one, four])
const path = writeResults('sync', [one, four], {
  window: WINDOW,
  blocks: BLOCKS,
  // Per CPU-second of both processes, not per second of wall time.
  sync_blocks_per_cpu_s: BLOCKS / (one.subjectNs / 1e9),
  sync_4_peers_blocks_per_cpu_s: BLOCKS / (four.subjectNs / 1e9),
})
console.log(`\nwrote ${path}`)
