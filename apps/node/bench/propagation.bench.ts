// `pnpm bench` for propagation: 200 nodes, 8 peers each, 50 ms ± 10 ms
// one-way latency, 100 blocks of 200 transactions (env overrides for
// smaller runs). Writes bench-results/propagation.json.
import { writeResults } from '@chronos/bench-kit'
import { percentile, runPropagation } from './propagation.js'

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
    console.error(`  [${new Date().toISOString().slice(11, 19)}] ${line}`),
}
const ours = await runPropagation({ ...params, flood: false })
const flooding = await runPropagation({ ...params, flood: true })
// The same over real TCP on loopback: 30 nodes, no added latency (it measures the stack itself).
const overTcp = await runPropagation({
  ...params,
  nodes: env('CHRONOS_BENCH_TCP_NODES', 30),
  blocks: Math.min(params.blocks, 30),
  latencyMs: 0,
  jitterMs: 0,
  flood: false,
  transport: 'tcp',
})
const tcpToAll = overTcp.reach.map((r) => r.p100)
const toAll = ours.reach.map((r) => r.p100)
const row = {
  p50_time_to_all_vs_ideal: percentile(toAll, 0.5) / ours.idealMs,
  p99_time_to_all_vs_ideal: percentile(toAll, 0.99) / ours.idealMs,
  full_blocks_per_node: ours.fullBlockDeliveries / params.nodes,
  bytes_vs_flooding: ours.bytes / flooding.bytes,
}
console.log(
  `\npropagation: ${params.nodes} nodes, ${params.blocks} blocks of ${params.transactions} transactions`,
)
console.log(
  `  ideal ${ours.idealMs.toFixed(0)} ms (${ours.hops} hops), block ${ours.blockBytes} bytes`,
)
console.log(
  `  time to 50/90/100 %: p50 ${percentile(
    ours.reach.map((r) => r.p50),
    0.5,
  ).toFixed(0)} / ${percentile(
    ours.reach.map((r) => r.p90),
    0.5,
  ).toFixed(
    0,
  )} / ${percentile(toAll, 0.5).toFixed(0)} ms; p99 to all ${percentile(toAll, 0.99).toFixed(0)} ms`,
)
console.log(
  `  flooding: p50 to all ${percentile(
    flooding.reach.map((r) => r.p100),
    0.5,
  ).toFixed(0)} ms`,
)
console.log(
  `  over TCP (${env('CHRONOS_BENCH_TCP_NODES', 30)} nodes, loopback): p50 to all ${percentile(tcpToAll, 0.5).toFixed(0)} ms, p99 ${percentile(tcpToAll, 0.99).toFixed(0)} ms, ${overTcp.hops} hops`,
)
for (const [key, value] of Object.entries(row))
  console.log(`  ${key.padEnd(26)} ${value.toFixed(3)}`)
const path = writeResults('propagation', [], {
  ...row,
  goals: { p50_time_to_all_vs_ideal: 1.5, p99_time_to_all_vs_ideal: 1.5, bytes_vs_flooding: 0.4 },
  ideal_ms: ours.idealMs,
  hops: ours.hops,
  block_bytes: ours.blockBytes,
  flooding_p50_time_to_all_ms: percentile(
    flooding.reach.map((r) => r.p100),
    0.5,
  ),
  tcp_30: {
    p50_time_to_all_ms: percentile(tcpToAll, 0.5),
    p99_time_to_all_ms: percentile(tcpToAll, 0.99),
    hops: overTcp.hops,
    full_blocks_per_node: overTcp.fullBlockDeliveries / env('CHRONOS_BENCH_TCP_NODES', 30),
    blocks_reaching_all: overTcp.reach.filter(
      (r) => r.reached === env('CHRONOS_BENCH_TCP_NODES', 30),
    ).length,
    blocks_measured: overTcp.reach.length,
  },
  blocks_measured: ours.reach.length,
  blocks_reaching_all: ours.reach.filter((r) => r.reached === params.nodes).length,
  params,
})
console.log(`\nwrote ${path}`)
