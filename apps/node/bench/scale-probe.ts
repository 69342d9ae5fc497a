// Ad-hoc: one gossip run at N nodes, B blocks (SHARE=0 turns shareBlocks off), for profiling.
// Prints each phase's wall, CPU and simulated seconds; PHASES=file writes them as JSON (with the
// monotonic µs each phase began at, the clock of `node --cpu-prof`), for profile-phases.ts.
import { writeFileSync } from 'node:fs'
import { writeHeapSnapshot } from 'node:v8'
import { runPropagation } from './propagation.js'

const RealDate = Date
const t0 = RealDate.now()
const nodes = Number(process.env.N ?? 1000)
let simulated: readonly { addressBook: { size: number } | undefined }[] = []
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)}MiB`
const r = await runPropagation({
  nodes,
  dials: 4,
  blocks: Number(process.env.B ?? 5),
  transactions: 200,
  roundMs: 1500,
  latencyMs: 50,
  jitterMs: 10,
  bandwidthBytesPerSecond: 12_500_000,
  seed: Number(process.env.SEED ?? 7),
  flood: process.env.FLOOD === '1',
  shareBlocks: process.env.SHARE !== '0',
  // SNAPSHOT=file: a heap snapshot once all are connected (what a node costs in memory).
  observe: (nodes, phase) => {
    if (phase === 'measuring' && process.env.SNAPSHOT) writeHeapSnapshot(process.env.SNAPSHOT)
    if (phase === 'measuring') simulated = nodes
  },
  progress: (l) =>
    console.error(
      `[${((RealDate.now() - t0) / 1000).toFixed(1)}s] ${l} rss=${mib(process.memoryUsage().rss)}`,
    ),
})
const books = simulated.map((node) => node.addressBook?.size ?? 0)
console.error(
  `address book entries per node at the end: mean ${(books.reduce((a, b) => a + b, 0) / Math.max(1, books.length)).toFixed(1)}, max ${Math.max(0, ...books)}`,
)
for (const phase of r.phases)
  console.error(
    `phase ${phase.name.padEnd(8)} wall ${(phase.wallMs / 1000).toFixed(1)} s, CPU ${(phase.cpuMs / 1000).toFixed(1)} s, simulated ${(phase.simulatedMs / 1000).toFixed(1)} s, heap ${mib(phase.heapUsed)}`,
  )
console.error(`CPU s per block: ${r.cpuMsPerBlock.map((ms) => (ms / 1000).toFixed(2)).join(' ')}`)
if (process.env.PHASES) writeFileSync(process.env.PHASES, JSON.stringify(r.phases, null, 1))
const times = r.reach.map((b) => b.p100)
console.error(
  `done in ${((RealDate.now() - t0) / 1000).toFixed(1)}s rss=${mib(process.memoryUsage().rss)} heap=${mib(process.memoryUsage().heapUsed)} reach=${r.reach.length} full_blocks_per_node=${(r.fullBlockDeliveries / nodes).toFixed(4)} model=${(r.model.fullBlockDeliveries / nodes).toFixed(4)} time_to_all=${times.join(',')} model_to_all=${r.model.timeToAll.map((t) => t.toFixed(1)).join(',')} bytes=${r.bytes}`,
)
