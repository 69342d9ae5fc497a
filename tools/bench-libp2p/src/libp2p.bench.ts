// `pnpm bench` for Chronos against js-libp2p gossipsub, same run, same machine.
//
// Propagation: the same random 8-regular graph of 30 nodes on loopback for
// both stacks, the same block bytes (16 KB, then 1 MB) from random
// producers, one block at a time, each block sent by Chronos and by
// gossipsub back to back (the order alternating), so a burst of load on this
// shared machine hits both. Bytes are counted at the socket.
// Throughput: two nodes, 1 KiB and 1 MiB messages, a Chronos connection
// against a libp2p stream (noise + yamux), paired rounds.
// Writes bench-results/libp2p.json.
import './node20.js'
import {
  type Comparison,
  compareAsync,
  formatSpread,
  fromRatios,
  machineLoad,
  median,
  printTable,
  quantile,
  writeResults,
} from '@chronos/bench-kit'
import { blockOfSize, envelopeBytes } from './blocks.js'
import { startChronosNet } from './chronos-net.js'
import { eccentricity, randomRegularGraph, seededRandom } from './graph.js'
import { startLibp2pNet } from './libp2p-net.js'
import { bytesWritten, installSocketCounter } from './socket-bytes.js'
import { chronosLink, libp2pLink, messageOfSize } from './throughput.js'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const NODES = env('CHRONOS_BENCH_LIBP2P_NODES', 30)
const DEGREE = 8
const SEED = 17
const say = (line: string) => console.error(`  [${new Date().toISOString().slice(11, 19)}] ${line}`)

installSocketCounter()
// libp2p leaves some of its own promises unawaited (dial and stream deadlines on a starved machine
// reject them); noted and carried on, so one lost stream does not lose the run's figures.
const unhandled: string[] = []
process.on('unhandledRejection', (error) => {
  unhandled.push(String((error as Error)?.message ?? error))
  say(`unhandled rejection (libp2p internals): ${unhandled.at(-1)}`)
})
const loadAtStart = machineLoad()
const graph = randomRegularGraph(NODES, DEGREE, SEED)
const random = seededRandom(SEED + 1)

interface SizeCase {
  label: string
  bytes: number
  blocks: number
  roundMs: number
}
const sizes: SizeCase[] = [
  {
    label: '16KB',
    bytes: 16 * 1024,
    blocks: env('CHRONOS_BENCH_LIBP2P_BLOCKS', 7),
    roundMs: 4000,
  },
  {
    label: '1MB',
    bytes: 1024 * 1024,
    blocks: env('CHRONOS_BENCH_LIBP2P_BLOCKS_1MB', 7),
    roundMs: 12000,
  },
]

const propagation: Record<string, unknown> = {}
const rows: Comparison[] = []
for (const size of sizes) {
  say(`${size.label}: starting ${NODES} Chronos nodes and ${NODES} libp2p nodes`)
  const chronos = await startChronosNet(graph, size.roundMs)
  const libp2p = await startLibp2pNet(graph)
  say(
    `${size.label}: connected; gossipsub mesh sizes ${Math.min(...libp2p.meshSizes())}-${Math.max(...libp2p.meshSizes())}`,
  )
  const meshAtStart = libp2p.meshSizes()
  const pairs: {
    chronosMs: number
    gossipMs: number
    chronosCopies: number
    gossipCopies: number
    bytes: number
  }[] = []
  const bytesAtStart = { chronos: bytesWritten(chronos.ports), libp2p: bytesWritten(libp2p.ports) }
  let blockBytes = 0
  for (let b = 0; b < size.blocks; b++) {
    const producer = Math.floor(random() * NODES)
    const build = (parent: Parameters<typeof blockOfSize>[1], timestamp: number, name: string) =>
      blockOfSize(size.bytes, parent, timestamp, name, b)
    const runChronos = async () => (await chronos.prepare(producer, build, 1)).run()
    // Chronos builds the block on its head; gossipsub carries those same bytes. When gossipsub
    // goes first, it carries the block Chronos is about to be given.
    let chronosRun: Awaited<ReturnType<typeof runChronos>>
    let gossipRun: Awaited<ReturnType<typeof libp2p.propagate>>
    if (b % 2 === 0) {
      chronosRun = await runChronos()
      blockBytes = envelopeBytes(chronosRun.block).byteLength
      gossipRun = await libp2p.propagate(
        producer,
        envelopeBytes(chronosRun.block),
        4 * size.roundMs,
      )
    } else {
      const { block, run } = await chronos.prepare(producer, build)
      gossipRun = await libp2p.propagate(producer, envelopeBytes(block), 4 * size.roundMs)
      chronosRun = await run()
    }
    const toAll = (seen: number[]) => (seen.length === NODES ? Math.max(...seen) : Number.NaN)
    pairs.push({
      chronosMs: toAll(chronosRun.seenMs),
      gossipMs: toAll(gossipRun.seenMs),
      chronosCopies: chronosRun.copies,
      gossipCopies: gossipRun.copies,
      bytes: blockBytes,
    })
    say(
      `${size.label} block ${b + 1}/${size.blocks} from node ${producer}: to all ${pairs.at(-1)!.chronosMs.toFixed(1)} ms Chronos, ${pairs.at(-1)!.gossipMs.toFixed(1)} ms gossipsub; copies ${chronosRun.copies} / ${gossipRun.copies}; reached ${chronosRun.seenMs.length} / ${gossipRun.seenMs.length} ${JSON.stringify(chronosRun.dropped)}`,
    )
  }
  const sent = {
    chronos: bytesWritten(chronos.ports) - bytesAtStart.chronos,
    libp2p: bytesWritten(libp2p.ports) - bytesAtStart.libp2p,
  }
  await chronos.stop()
  await libp2p.stop()
  const complete = pairs.filter((p) => Number.isFinite(p.chronosMs) && Number.isFinite(p.gossipMs))
  const timeRow = fromRatios(
    `time_to_all_vs_gossipsub_${size.label}`,
    'gossipsub, same block',
    complete.map((p) => ({ subject: p.chronosMs * 1e6, baseline: p.gossipMs * 1e6 })),
    0.8,
  )
  rows.push(timeRow)
  const chronosTimes = pairs.map((p) => p.chronosMs)
  const gossipTimes = pairs.map((p) => p.gossipMs)
  const finite = (v: number[]) => v.filter(Number.isFinite)
  const p = (values: number[], q: number) => quantile(finite(values), q)
  const perNodePerBlock = (bytes: number) => bytes / NODES / size.blocks
  const duplicates = (copies: number[]) => median(copies.map((c) => c / (NODES - 1) - 1))
  propagation[size.label] = {
    time_to_all_p50_vs_gossipsub: round(p(chronosTimes, 0.5) / p(gossipTimes, 0.5)),
    time_to_all_p99_vs_gossipsub: round(p(chronosTimes, 0.99) / p(gossipTimes, 0.99)),
    time_to_all_paired_ratio: {
      median: round(timeRow.ratio),
      ...roundAll(timeRow.spread),
      rounds: timeRow.rounds,
    },
    bytes_per_node_vs_gossipsub: round(sent.chronos / sent.libp2p),
    duplicates_per_node: {
      chronos: round(duplicates(pairs.map((x) => x.chronosCopies))),
      gossipsub: round(duplicates(pairs.map((x) => x.gossipCopies))),
    },
    chronos: {
      time_to_all_ms: { p50: round(p(chronosTimes, 0.5)), p99: round(p(chronosTimes, 0.99)) },
      bytes_per_node_per_block: Math.round(perNodePerBlock(sent.chronos)),
      blocks_reaching_all: finite(chronosTimes).length,
    },
    gossipsub: {
      time_to_all_ms: { p50: round(p(gossipTimes, 0.5)), p99: round(p(gossipTimes, 0.99)) },
      bytes_per_node_per_block: Math.round(perNodePerBlock(sent.libp2p)),
      blocks_reaching_all: finite(gossipTimes).length,
    },
    gossipsub_publish_failures: libp2p.failures,
    gossipsub_mesh_sizes: { min: Math.min(...meshAtStart), max: Math.max(...meshAtStart) },
    block_bytes: blockBytes,
    blocks: size.blocks,
    round_ms: size.roundMs,
  }
}

// Throughput: messages per second over one link, Chronos over libp2p (a ratio of times, so < 1 is faster).
const throughput: Record<string, unknown> = {}
for (const [label, bytes, count] of [
  ['1KiB', 1024, env('CHRONOS_BENCH_LIBP2P_MESSAGES_1KIB', 10_000)],
  ['1MiB', 1024 * 1024, env('CHRONOS_BENCH_LIBP2P_MESSAGES_1MIB', 100)],
] as const) {
  say(`throughput ${label}: ${count} messages per round`)
  let row: Comparison
  try {
    const message = messageOfSize(bytes)
    const ours = await chronosLink()
    const theirs = await libp2pLink()
    row = await compareAsync(
      `throughput_time_vs_libp2p_${label}`,
      () => ours.send(message, count),
      'libp2p stream (noise + yamux), same frames',
      () => theirs.send(message, count),
      { rounds: 7, clock: 'cpu' },
    )
    await ours.close()
    await theirs.close()
  } catch (error) {
    // A starved machine can time libp2p's set-up out; the propagation figures are still written.
    throughput[label] = { failed: (error as Error).message }
    continue
  }
  rows.push(row)
  throughput[label] = {
    throughput_vs_libp2p: round(1 / row.ratio),
    chronos_messages_per_cpu_s: Math.round(count / (row.subjectNs / 1e9)),
    libp2p_messages_per_cpu_s: Math.round(count / (row.baselineNs / 1e9)),
    messages_per_round: count,
    identity: 'off',
  }
}

printTable(`Chronos vs js-libp2p gossipsub: ${NODES} nodes, degree ${DEGREE}, loopback TCP`, rows)
for (const [label, value] of Object.entries(propagation))
  console.log(`  ${label}: ${JSON.stringify(value)}`)
for (const [label, value] of Object.entries(throughput))
  console.log(`  throughput ${label}: ${JSON.stringify(value)}`)
for (const row of rows) void formatSpread(row)
const path = writeResults('libp2p', rows, {
  propagation,
  throughput,
  graph: {
    nodes: NODES,
    degree: DEGREE,
    seed: SEED,
    edges: graph.edges.length,
    diameter_from_0: eccentricity(graph, 0),
  },
  load_at_start: loadAtStart,
  unhandled_rejections: unhandled,
  stacks: {
    chronos: 'TCP, JSON frames, no encryption, sqrt(m) full blocks + hash announcements',
    libp2p:
      'libp2p 2.9.0, @libp2p/tcp 10.1.9, noise 16.1.5, yamux 7.0.4, identify 3, gossipsub 14.1.2 defaults (D=6, StrictSign, floodPublish), topic validator = Chronos block check',
  },
})
console.log(`\nwrote ${path}`)

function round(value: number): number {
  return Number(value.toFixed(3))
}
function roundAll<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, round(v as number)])) as T
}
