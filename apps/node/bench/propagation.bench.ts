// `pnpm bench` for propagation: 200 nodes, 8 peers each, 50 ms ± 10 ms
// one-way latency, 100 blocks of 200 transactions, on virtual time (env
// overrides for smaller runs); then 30 nodes over real TCP on the real
// clock. Writes bench-results/propagation.json.
//
// Three baselines from the same run: the ideal (shortest path × link
// time), flooding (every block whole to every peer, the byte baseline) and
// the spec model (the best the √m rule allows on this very topology).
import { writeResults } from '@chronos/bench-kit'
import { percentile, runPropagation } from './propagation.js'

// Progress lines carry wall-clock time; captured now, before virtual time replaces Date.
const RealDate = Date
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const params = {
  nodes: env('CHRONOS_BENCH_NODES', 200),
  dials: 4,
  blocks: env('CHRONOS_BENCH_BLOCKS', 100),
  transactions: 200,
  roundMs: env('CHRONOS_BENCH_ROUND_MS', 1500),
  latencyMs: 50,
  jitterMs: 10,
  bandwidthBytesPerSecond: 12_500_000,
  seed: 7,
  progress: (line: string) =>
    console.error(`  [${new RealDate().toISOString().slice(11, 19)}] ${line}`),
}
const tcpNodes = env('CHRONOS_BENCH_TCP_NODES', 30)

const ours = await runPropagation({ ...params, flood: false })
const flooding = await runPropagation({ ...params, flood: true })
// Real sockets on loopback with no added latency: this one measures the stack itself, CPU included.
const overTcp = await runPropagation({
  ...params,
  nodes: tcpNodes,
  blocks: Math.min(params.blocks, 30),
  latencyMs: 0,
  jitterMs: 0,
  flood: false,
  transport: 'tcp',
})

const toAll = ours.reach.map((r) => r.p100)
const floodToAll = flooding.reach.map((r) => r.p100)
const tcpToAll = overTcp.reach.map((r) => r.p100)
const modelToAll = ours.model.timeToAll
const row = {
  p50_time_to_all_vs_ideal: percentile(toAll, 0.5) / ours.idealMs,
  p99_time_to_all_vs_ideal: percentile(toAll, 0.99) / ours.idealMs,
  full_blocks_per_node: ours.fullBlockDeliveries / params.nodes,
  bytes_vs_flooding: ours.bytes / flooding.bytes,
  p50_time_to_all_vs_spec_model: percentile(toAll, 0.5) / percentile(modelToAll, 0.5),
  p99_time_to_all_vs_spec_model: percentile(toAll, 0.99) / percentile(modelToAll, 0.99),
  full_blocks_vs_spec_model: ours.fullBlockDeliveries / ours.model.fullBlockDeliveries,
  spec_model_p50_time_to_all_vs_ideal: percentile(modelToAll, 0.5) / ours.idealMs,
  flooding_p50_time_to_all_vs_ideal: percentile(floodToAll, 0.5) / ours.idealMs,
}
const ms = (value: number) => `${value.toFixed(0)} ms`
console.log(
  `\npropagation: ${params.nodes} nodes, ${params.blocks} blocks of ${params.transactions} transactions, virtual time`,
)
console.log(`  ideal ${ms(ours.idealMs)} (${ours.hops} hops), block ${ours.blockBytes} bytes`)
console.log(
  `  time to 50/90/100 %: p50 ${ms(
    percentile(
      ours.reach.map((r) => r.p50),
      0.5,
    ),
  )} / ${ms(
    percentile(
      ours.reach.map((r) => r.p90),
      0.5,
    ),
  )} / ${ms(percentile(toAll, 0.5))}; p99 to all ${ms(percentile(toAll, 0.99))}`,
)
console.log(`  spec model: p50 to all ${ms(percentile(modelToAll, 0.5))}`)
console.log(`  flooding: p50 to all ${ms(percentile(floodToAll, 0.5))}`)
console.log(
  `  over TCP (${tcpNodes} nodes, loopback, real clock): p50 to all ${ms(percentile(tcpToAll, 0.5))}, p99 ${ms(percentile(tcpToAll, 0.99))}, ${overTcp.hops} hops`,
)
for (const [key, value] of Object.entries(row))
  console.log(`  ${key.padEnd(38)} ${value.toFixed(3)}`)
const path = writeResults('propagation', [], {
  ...row,
  goals: { p50_time_to_all_vs_ideal: 1.5, p99_time_to_all_vs_ideal: 1.5, bytes_vs_flooding: 0.4 },
  clock: 'virtual (memory transport); real (TCP)',
  ideal_ms: ours.idealMs,
  hops: ours.hops,
  block_bytes: ours.blockBytes,
  p50_time_to_all_ms: percentile(toAll, 0.5),
  spec_model_p50_time_to_all_ms: percentile(modelToAll, 0.5),
  spec_model_full_blocks_per_node: ours.model.fullBlockDeliveries / params.nodes,
  flooding_p50_time_to_all_ms: percentile(floodToAll, 0.5),
  flooding_full_blocks_per_node: flooding.fullBlockDeliveries / params.nodes,
  tcp_30: {
    p50_time_to_all_ms: percentile(tcpToAll, 0.5),
    p99_time_to_all_ms: percentile(tcpToAll, 0.99),
    hops: overTcp.hops,
    full_blocks_per_node: overTcp.fullBlockDeliveries / tcpNodes,
    blocks_reaching_all: overTcp.reach.filter((r) => r.reached === tcpNodes).length,
    blocks_measured: overTcp.reach.length,
  },
  blocks_measured: ours.reach.length,
  blocks_reaching_all: ours.reach.filter((r) => r.reached === params.nodes).length,
  params,
})
console.log(`\nwrote ${path}`)
