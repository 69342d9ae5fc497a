// `pnpm bench` for propagation: at each size (default 200 and 1,000 nodes;
// CHRONOS_BENCH_SIZES=200,1000,10000 for all three), 8 peers each, 50 ms ±
// 10 ms one-way latency, blocks of 200 transactions, on virtual time; then
// 30 nodes over real TCP on the real clock. Writes bench-results/propagation.json,
// one entry per size (sizes not run this time keep their last entry).
//
// Three baselines from the same run at each size: the ideal (shortest path ×
// link time), flooding (every block whole to every peer, the byte baseline)
// and the spec model (the best the √m rule allows on this very topology).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { machineLoad, resultsDir, writeResults } from '@chronos/bench-kit'
import { type PropagationResult, percentile, runPropagation } from './propagation.js'

// Progress lines carry wall-clock time; captured now, before virtual time replaces Date.
const RealDate = Date
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const sizes = (process.env.CHRONOS_BENCH_SIZES ?? process.env.CHRONOS_BENCH_NODES ?? '200,1000')
  .split(',')
  .map(Number)
// Fewer blocks at larger sizes keep the run within minutes; each block is measured at every node.
const blocksFor = (nodes: number) =>
  env('CHRONOS_BENCH_BLOCKS', nodes <= 200 ? 100 : nodes <= 1000 ? 30 : 6)
const base = {
  dials: 4,
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
const ms = (value: number) => `${value.toFixed(0)} ms`
const r3 = (value: number) => Number(value.toFixed(3))

function summarise(nodes: number, ours: PropagationResult, flooding: PropagationResult) {
  const toAll = ours.reach.map((r) => r.p100)
  const floodToAll = flooding.reach.map((r) => r.p100)
  const modelToAll = ours.model.timeToAll
  const ratios = {
    p50_time_to_all_vs_ideal: percentile(toAll, 0.5) / ours.idealMs,
    p99_time_to_all_vs_ideal: percentile(toAll, 0.99) / ours.idealMs,
    full_blocks_per_node: ours.fullBlockDeliveries / nodes,
    bytes_vs_flooding: ours.bytes / flooding.bytes,
    p50_time_to_all_vs_spec_model: percentile(toAll, 0.5) / percentile(modelToAll, 0.5),
    p99_time_to_all_vs_spec_model: percentile(toAll, 0.99) / percentile(modelToAll, 0.99),
    full_blocks_vs_spec_model: ours.fullBlockDeliveries / ours.model.fullBlockDeliveries,
    spec_model_p50_time_to_all_vs_ideal: percentile(modelToAll, 0.5) / ours.idealMs,
    flooding_p50_time_to_all_vs_ideal: percentile(floodToAll, 0.5) / ours.idealMs,
  }
  console.log(
    `\npropagation: ${nodes} nodes, ${ours.reach.length} blocks of ${base.transactions} transactions, virtual time`,
  )
  console.log(
    `  ideal ${ms(ours.idealMs)} (${ours.hops} hops on the relay graph, ${ours.linkGraphHops} on the link graph), block ${ours.blockBytes} bytes`,
  )
  console.log(
    `  relay peers per node ${ours.relayDegree.toFixed(2)} (link graph ${ours.linkDegree.toFixed(2)}; flooding run ${flooding.relayDegree.toFixed(2)}); spec model full blocks per node ${(ours.model.fullBlockDeliveries / nodes).toFixed(3)} on the relay graph, ${ours.model.configuredGraphFullBlocksPerNode.toFixed(3)} on the link graph`,
  )
  console.log(
    `  time to all: p50 ${ms(percentile(toAll, 0.5))}, p99 ${ms(percentile(toAll, 0.99))}; spec model p50 ${ms(percentile(modelToAll, 0.5))}; flooding p50 ${ms(percentile(floodToAll, 0.5))}`,
  )
  const cost = (run: PropagationResult) => {
    const setup = run.phases.filter((phase) => ['open', 'start', 'connect'].includes(phase.name))
    const sum = (key: 'wallMs' | 'cpuMs') => setup.reduce((total, phase) => total + phase[key], 0)
    return {
      wall_s: r3(run.wallMs / 1000),
      setup_wall_s: r3(run.setupWallMs / 1000),
      cpu_s: r3(run.cpuMs / 1000),
      setup_cpu_s: r3(sum('cpuMs') / 1000),
      simulated_s: r3(run.simulatedMs / 1000),
      simulated_s_per_wall_s: r3(run.simulatedMs / run.wallMs),
      simulated_s_per_cpu_s: r3(run.simulatedMs / run.cpuMs),
      cpu_s_per_block_p50: r3(percentile(run.cpuMsPerBlock, 0.5) / 1000),
      heap_per_node_bytes: Math.round(run.heapPerNode),
      heap_per_node_after_blocks_bytes: Math.round(run.heapPerNodeAfterBlocks),
      rss_per_node_bytes: Math.round(run.rssPerNode),
      // The process's peak resident set so far (both runs of a size, and earlier sizes).
      rss_peak_bytes: process.resourceUsage().maxRSS * 1024,
      phases: Object.fromEntries(
        run.phases.map((phase) => [
          phase.name,
          {
            wall_s: r3(phase.wallMs / 1000),
            cpu_s: r3(phase.cpuMs / 1000),
            simulated_s: r3(phase.simulatedMs / 1000),
          },
        ]),
      ),
    }
  }
  const costs = { gossip: cost(ours), flooding: cost(flooding) }
  console.log(
    `  cost (gossip run): ${costs.gossip.wall_s} s wall for ${r3(ours.simulatedMs / 1000)} s simulated (${costs.gossip.simulated_s_per_wall_s} simulated s per wall s), ${costs.gossip.cpu_s} s CPU, heap ${(ours.heapPerNode / 1024).toFixed(0)} KiB per node`,
  )
  for (const [name, run] of Object.entries(costs))
    console.log(
      `  ${name} phases (CPU s): ${Object.entries(run.phases)
        .map(([phase, c]) => `${phase} ${c.cpu_s}`)
        .join(
          ', ',
        )}; per block p50 ${run.cpu_s_per_block_p50}; RSS peak ${(run.rss_peak_bytes / 2 ** 30).toFixed(2)} GiB`,
    )
  for (const [key, value] of Object.entries(ratios))
    console.log(`  ${key.padEnd(38)} ${value.toFixed(3)}`)
  return {
    ...Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, r3(v)])),
    ideal_ms: ours.idealMs,
    hops: ours.hops,
    block_bytes: ours.blockBytes,
    p50_time_to_all_ms: percentile(toAll, 0.5),
    spec_model_p50_time_to_all_ms: percentile(modelToAll, 0.5),
    spec_model_full_blocks_per_node: r3(ours.model.fullBlockDeliveries / nodes),
    spec_model_pushed_per_node: r3(ours.model.detail.pushedPerNode),
    spec_model_answered_per_node: r3(ours.model.detail.answeredPerNode),
    // The model on the graph the nodes were told to build, before peer exchange added links.
    spec_model_configured_graph_full_blocks_per_node: r3(
      ours.model.configuredGraphFullBlocksPerNode,
    ),
    link_degree: r3(ours.linkDegree),
    link_graph_hops: ours.linkGraphHops,
    p50_time_to_all_vs_link_graph_ideal: r3(
      percentile(toAll, 0.5) / ((ours.idealMs / ours.hops) * ours.linkGraphHops),
    ),
    relay_degree: r3(ours.relayDegree),
    flooding_relay_degree: r3(flooding.relayDegree),
    flooding_p50_time_to_all_ms: percentile(floodToAll, 0.5),
    flooding_full_blocks_per_node: r3(flooding.fullBlockDeliveries / nodes),
    blocks_measured: ours.reach.length,
    blocks_reaching_all: ours.reach.filter((r) => r.reached === nodes).length,
    cost: costs,
    load_at_end: machineLoad(),
    measured_at: new Date().toISOString(),
  }
}

/** One line per run as it ends: a size whose flooding run does not finish still has its gossip figures. */
function runLine(run: PropagationResult, nodes: number) {
  const toAll = run.reach.map((r) => r.p100)
  const line = {
    p50_time_to_all_ms: percentile(toAll, 0.5),
    spec_model_p50_time_to_all_ms: r3(percentile(run.model.timeToAll, 0.5)),
    p50_time_to_all_vs_spec_model: r3(
      percentile(toAll, 0.5) / percentile(run.model.timeToAll, 0.5),
    ),
    p50_time_to_all_vs_ideal: r3(percentile(toAll, 0.5) / run.idealMs),
    full_blocks_per_node: r3(run.fullBlockDeliveries / nodes),
    spec_model_full_blocks_per_node: r3(run.model.fullBlockDeliveries / nodes),
    bytes: run.bytes,
    blocks_reaching_all: run.reach.filter((r) => r.reached === nodes).length,
    cpu_s_per_block: run.cpuMsPerBlock.map((ms) => r3(ms / 1000)),
    heap_per_node_bytes: Math.round(run.heapPerNode),
    heap_per_node_after_blocks_bytes: Math.round(run.heapPerNodeAfterBlocks),
    rss_peak_bytes: process.resourceUsage().maxRSS * 1024,
  }
  base.progress(`run done: ${JSON.stringify(line)}`)
}

const bySize: Record<string, unknown> = {}
for (const nodes of sizes) {
  const params = { ...base, nodes, blocks: blocksFor(nodes) }
  const ours = await runPropagation({ ...params, flood: false })
  runLine(ours, nodes)
  const flooding = await runPropagation({ ...params, flood: true })
  runLine(flooding, nodes)
  bySize[String(nodes)] = { ...summarise(nodes, ours, flooding), params }
}

// Real sockets on loopback with no added latency: this one measures the stack itself, CPU included.
// CHRONOS_BENCH_TCP_NODES=0 skips it (runs of the larger sizes alone keep the last figures).
const overTcp =
  tcpNodes === 0
    ? undefined
    : await runPropagation({
        ...base,
        nodes: tcpNodes,
        blocks: Math.min(blocksFor(200), 30),
        latencyMs: 0,
        jitterMs: 0,
        flood: false,
        transport: 'tcp',
      })
const tcpToAll = overTcp?.reach.map((r) => r.p100) ?? []
if (overTcp)
  console.log(
    `\nover TCP (${tcpNodes} nodes, loopback, real clock): p50 to all ${ms(percentile(tcpToAll, 0.5))}, p99 ${ms(percentile(tcpToAll, 0.99))}, ${overTcp.hops} hops`,
  )
// Sizes and figures not measured this time keep their last entry (read now: other runs may have written).
const previous = readPrevious()
Object.assign(bySize, { ...previous.sizes, ...bySize })

// The 200-node figures stay at the top level, where earlier results had them.
const headline = (bySize['200'] ?? {}) as Record<string, unknown>
const pick = (key: string) => headline[key]
const path = writeResults('propagation', [], {
  p50_time_to_all_vs_ideal: pick('p50_time_to_all_vs_ideal'),
  p99_time_to_all_vs_ideal: pick('p99_time_to_all_vs_ideal'),
  full_blocks_per_node: pick('full_blocks_per_node'),
  bytes_vs_flooding: pick('bytes_vs_flooding'),
  p50_time_to_all_vs_spec_model: pick('p50_time_to_all_vs_spec_model'),
  goals: {
    p50_time_to_all_vs_ideal: 1.5,
    p99_time_to_all_vs_ideal: 1.5,
    bytes_vs_flooding: 0.4,
    p50_time_to_all_vs_spec_model: 1.02,
  },
  clock: 'virtual (memory transport, blocks decoded and verified once per network); real (TCP)',
  sizes: bySize,
  tcp_30: overTcp
    ? {
        p50_time_to_all_ms: percentile(tcpToAll, 0.5),
        p99_time_to_all_ms: percentile(tcpToAll, 0.99),
        hops: overTcp.hops,
        full_blocks_per_node: overTcp.fullBlockDeliveries / tcpNodes,
        blocks_reaching_all: overTcp.reach.filter((r) => r.reached === tcpNodes).length,
        blocks_measured: overTcp.reach.length,
      }
    : previous.tcp_30,
})
console.log(`\nwrote ${path}`)

/** Entries of sizes measured earlier, so a run of one size does not erase the others. */
function readPrevious(): { sizes?: Record<string, unknown>; tcp_30?: unknown } {
  const file = join(resultsDir, 'propagation.json')
  if (!existsSync(file)) return {}
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return {}
  }
}
