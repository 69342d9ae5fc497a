// `pnpm bench` for memory: heap per node after 10,000 gossiped blocks vs
// after 1,000 (bounded known sets and caches keep it flat). Needs --expose-gc.
import { writeResults } from '@chronos/bench-kit'
import { runMemory } from './memory.js'

const small = Number(process.env.CHRONOS_BENCH_MEMORY_FROM ?? 1_000)
const large = Number(process.env.CHRONOS_BENCH_MEMORY_TO ?? 10_000)
const params = {
  checkpoints: [small, large],
  speed: Number(process.env.CHRONOS_BENCH_SPEED ?? 10),
  roundMs: 100,
  snapshotDir: process.env.CHRONOS_BENCH_HEAP_SNAPSHOTS,
}
const [first, last] = await runMemory(params)
const ratio = last!.heapPerNode / first!.heapPerNode
console.log(
  `\nmemory: heap per node ${(first!.heapPerNode / 2 ** 20).toFixed(1)} MiB at ${small} blocks, ${(last!.heapPerNode / 2 ** 20).toFixed(1)} MiB at ${large}`,
)
console.log(`  heap_${large}_vs_${small}  ${ratio.toFixed(3)}  (goal <= 1.1)`)
const path = writeResults('memory', [], {
  [`heap_${large}_vs_${small}`]: ratio,
  goal: 1.1,
  heap_per_node_bytes: { [small]: first!.heapPerNode, [large]: last!.heapPerNode },
  params,
})
console.log(`\nwrote ${path}`)
