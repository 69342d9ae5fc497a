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
  median,
  printTable,
  processCpuNs,
  writeResults,
} from '@chronos/bench-kit'
import { type ChainStore, openChainStore } from '@chronos/chain-store'
import { PeerManager } from '@chronos/peer'
import { tcpTransport } from '@chronos/transport'
import { SyncEngine } from '../src/index.js'
import { chainStatus, genesis, noGossip } from '../test/helpers.js'

const BLOCKS = Number(process.env.CHRONOS_BENCH_BLOCKS ?? 10_000)
const WINDOW = Number(process.env.CHRONOS_BENCH_WINDOW ?? 64)
const ROUNDS = Number(process.env.CHRONOS_BENCH_ROUNDS ?? 11)

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
    const stopped = sync.stop()
    await peers.stop()
    await stopped
  })

// One step per side (a sync cannot be cut into steps without changing what it does); each side
// has fresh state per round. Sync is billed this process's CPU time plus the serving process's;
// the local append runs in a worker of its own and is billed that worker's.
const bothProcesses = async () => processCpuNs() + (await source.cpuNs())
/** Per round: CPU ms of the syncing node and of the serving process, to show which side costs what. */
const split: Record<number, { node: number[]; source: number[] }> = {}
const syncSide = (count: number) => async (): Promise<InterleavedSide> => ({
  async step() {
    const [node, served] = [processCpuNs(), await source.cpuNs()]
    await syncFrom(count)()
    split[count] ??= { node: [], source: [] }
    const rounds = split[count]
    rounds.node.push((processCpuNs() - node) / 1e6)
    rounds.source.push(((await source.cpuNs()) - served) / 1e6)
  },
  cpuNs: bothProcesses,
})
const appender = new BenchWorker(fileURLToPath(new URL('append-worker.ts', import.meta.url)), [
  String(BLOCKS),
])
const appendSide = async (): Promise<InterleavedSide> => ({
  step: () => appender.call('appendAll'),
  cpuNs: () => appender.cpuNs(),
})
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
await appender.close()

printTable(`sync: ${BLOCKS} blocks of 20 transactions, window ${WINDOW}`, [one, four])
const path = writeResults('sync', [one, four], {
  window: WINDOW,
  blocks: BLOCKS,
  // Per CPU-second of both processes, not per second of wall time.
  sync_blocks_per_cpu_s: BLOCKS / (one.subjectNs / 1e9),
  sync_4_peers_blocks_per_cpu_s: BLOCKS / (four.subjectNs / 1e9),
  // Medians over rounds (the warm-up included in neither figure nor these).
  cpu_ms_per_sync: Object.fromEntries(
    Object.entries(split).map(([peers, { node, source }]) => [
      `${peers}_peers`,
      {
        syncing_node: Math.round(median(node.slice(1))),
        serving_process: Math.round(median(source.slice(1))),
      },
    ]),
  ),
})
console.log(`\nwrote ${path}`)
