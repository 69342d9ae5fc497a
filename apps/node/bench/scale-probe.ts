// Ad-hoc: one gossip run at N nodes, B blocks (SHARE=0 turns shareBlocks off), for profiling.
import { runPropagation } from './propagation.js'

const RealDate = Date
const t0 = RealDate.now()
const nodes = Number(process.env.N ?? 1000)
const r = await runPropagation({
  nodes,
  dials: 4,
  blocks: Number(process.env.B ?? 5),
  transactions: 200,
  roundMs: 1500,
  latencyMs: 50,
  jitterMs: 10,
  bandwidthBytesPerSecond: 12_500_000,
  seed: 7,
  flood: false,
  shareBlocks: process.env.SHARE !== '0',
  progress: (l) =>
    console.error(
      `[${((RealDate.now() - t0) / 1000).toFixed(1)}s] ${l} rss=${(process.memoryUsage().rss / 2 ** 20).toFixed(0)}MiB`,
    ),
})
console.error(
  `done in ${((RealDate.now() - t0) / 1000).toFixed(1)}s rss=${(process.memoryUsage().rss / 2 ** 20).toFixed(0)}MiB heap=${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)}MiB reach=${r.reach.length} full_blocks_per_node=${(r.fullBlockDeliveries / nodes).toFixed(3)} model=${(r.model.fullBlockDeliveries / nodes).toFixed(3)}`,
)
