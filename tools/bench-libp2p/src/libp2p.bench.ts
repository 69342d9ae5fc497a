// `pnpm bench` for Chronos against js-libp2p gossipsub, same run, same machine.
//
// Propagation: the same random 8-regular graph of 30 nodes on loopback for
// both stacks, the same block bytes (16 KB, then 1 MB) from seeded random
// producers, one block at a time, each block sent by Chronos and by
// gossipsub back to back (a pair; the order alternating), so a burst of load
// on this shared machine hits both. Warm-up pairs first, not counted; the
// figures are medians of per-pair ratios with quartiles. Each stack's 30
// nodes run in a child process of their own (stack-host.ts), the same layout
// for both, so neither stack's event loop waits on the other's work; each
// host collects garbage before its timed span and measures the span's wall,
// CPU, GC and wait for a core (meter.ts). Bytes are counted at the sockets,
// over one window of the same length per block from injection / publish,
// stretched past the last delivery when that comes later (gossipsub has no
// rounds to drop a late block).
// A size counts only when gossipsub's mesh formed and every block reached
// all nodes on both stacks; otherwise it says what failed and prints no ratio.
// Throughput: two nodes, 1 KiB and 1 MiB messages, a Chronos connection
// against a libp2p stream (noise + yamux), paired rounds.
// Writes bench-results/libp2p.json.
import './node20.js'
import {
  type Comparison,
  compareAsync,
  fromRatios,
  machineLoad,
  median,
  printTable,
  quantile,
  spreadOf,
  writeResults,
} from '@chronos/bench-kit'
import type { Delivery } from './chronos-net.js'
import { eccentricity, randomRegularGraph, seededRandom } from './graph.js'
import { D_LO } from './libp2p-net.js'
import { type HostSetup, startHost } from './requests.js'
import { chronosLink, libp2pLink, messageOfSize } from './throughput.js'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const NODES = env('CHRONOS_BENCH_LIBP2P_NODES', 30)
const DEGREE = 8
const SEED = 17
const GOSSIPSUB_DEADLINE_ROUNDS = 5
const MESH_DEADLINE_MS = env('CHRONOS_BENCH_LIBP2P_MESH_DEADLINE_MS', 120_000)
const say = (line: string) => console.error(`  [${new Date().toISOString().slice(11, 19)}] ${line}`)

// libp2p leaves some of its own promises unawaited (dial and stream deadlines on a starved machine
// reject them); noted and carried on (the hosts report their own).
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
  /** Measured pairs. */
  blocks: number
  /** Pairs run first and not counted (WARMUP_NOTE). */
  warmup: number
  roundMs: number
}
const sizes: SizeCase[] = [
  {
    label: '16KB',
    bytes: 16 * 1024,
    blocks: env('CHRONOS_BENCH_LIBP2P_BLOCKS', 15),
    warmup: env('CHRONOS_BENCH_LIBP2P_WARMUP', 2),
    roundMs: 4000,
  },
  {
    label: '1MB',
    bytes: 1024 * 1024,
    blocks: env('CHRONOS_BENCH_LIBP2P_BLOCKS_1MB', 7),
    // One: a pair costs 24 s here, and the first block is the cold one.
    warmup: env('CHRONOS_BENCH_LIBP2P_WARMUP_1MB', 1),
    // Long enough for Chronos to reach all 30 nodes within its round on a loaded machine.
    roundMs: 12000,
  },
]
// WARMUP_NOTE: pairs run first at each size and not counted: the first blocks meet cold code
// (JIT; each size starts fresh host processes), a gossipsub mesh still settling after it first
// reached D_lo, and heaps not yet grown to a block's size.
/**
 * Both stacks' byte windows are a round less this, from injection / publish:
 * short enough that a gossipsub window and the Chronos round after it fit
 * in two rounds (see LEAD_MARGIN_MS), so a pair costs two rounds.
 */
const WINDOW_GUARD_MS = 300
/** When gossipsub goes first, Chronos's injection is planned its window plus this from now. */
const LEAD_MARGIN_MS = 400

interface Pair {
  index: number
  /** A warm-up pair: run like the others, kept in `per_block`, left out of every figure. */
  warmup: boolean
  producer: number
  order: 'chronos first' | 'gossipsub first'
  chronos: Delivery
  gossipsub: Delivery
  /** ms until the last node had it; NaN when some node never did within the window. */
  chronosMs: number
  gossipMs: number
  blockBytes: number
  /** Chronos re-timed its block one round later (gossipsub carried the first timing's bytes). */
  replanned: boolean
}

const propagation: Record<string, unknown> = {}
const rows: Comparison[] = []
for (const size of sizes) {
  say(`${size.label}: starting ${NODES} Chronos nodes and ${NODES} libp2p nodes, one process each`)
  const setup = (stack: HostSetup['stack']): HostSetup => ({
    stack,
    nodes: NODES,
    degree: DEGREE,
    seed: SEED,
    roundMs: size.roundMs,
    meshDeadlineMs: MESH_DEADLINE_MS,
  })
  const [chronos, libp2p] = await Promise.all([
    startHost(setup('chronos')),
    startHost(setup('libp2p')),
  ])
  const mesh = libp2p.mesh!
  say(
    `${size.label}: up (Chronos ${(chronos.setupMs / 1000).toFixed(1)} s, libp2p ${(libp2p.setupMs / 1000).toFixed(1)} s); gossipsub mesh ${mesh.formed ? 'formed' : 'NOT formed'} after ${(mesh.waitedMs / 1000).toFixed(1)} s, sizes ${Math.min(...mesh.sizes)}-${Math.max(...mesh.sizes)}`,
  )
  const pairs: Pair[] = []
  // Chronos's deadline is its round (a block late for it is dropped, by protocol); gossipsub has
  // no rounds, so it gets a generous one and its time to all counts however long it took.
  const deadline = GOSSIPSUB_DEADLINE_ROUNDS * size.roundMs
  const windowMs = size.roundMs - WINDOW_GUARD_MS
  const toAll = (d: Delivery) => (d.seenMs.length === NODES ? Math.max(...d.seenMs) : Number.NaN)
  const total = size.warmup + size.blocks
  for (let index = 0; index < total; index++) {
    const producer = Math.floor(random() * NODES)
    const chronosFirst = index % 2 === 0
    // Chronos builds the block on its head; gossipsub carries those same bytes. Chronos first:
    // injected at the next injection time (at once, right after the previous pair's Chronos
    // round ended). gossipsub first: it carries the block Chronos will inject after gossipsub's
    // window, in the round that follows it.
    const { envelope: planned } = await chronos.prepare({
      producer,
      bytes: size.bytes,
      salt: index,
      leadMs: chronosFirst ? 0 : windowMs + LEAD_MARGIN_MS,
      windowMs,
    })
    let chronosRun: Awaited<ReturnType<typeof chronos.run>>
    let gossipRun: Delivery
    if (chronosFirst) {
      chronosRun = await chronos.run()
      gossipRun = await libp2p.propagate(producer, chronosRun.envelope, windowMs, deadline)
    } else {
      gossipRun = await libp2p.propagate(producer, planned, windowMs, deadline)
      chronosRun = await chronos.run()
    }
    const { envelope, replanned, ...chronosDelivery } = chronosRun
    const pair: Pair = {
      index,
      warmup: index < size.warmup,
      producer,
      order: chronosFirst ? 'chronos first' : 'gossipsub first',
      chronos: chronosDelivery,
      gossipsub: gossipRun,
      chronosMs: toAll(chronosRun),
      gossipMs: toAll(gossipRun),
      blockBytes: envelope.byteLength,
      replanned,
    }
    pairs.push(pair)
    const c = chronosRun.toAll
    const g = gossipRun.toAll
    const waits = `waited for a core ${c.cpuWaitMs.toFixed(0)} / ${g.cpuWaitMs.toFixed(0)} ms`
    say(
      `${size.label} ${pair.warmup ? 'warm-up' : 'block'} ${index + 1}/${total} from node ${producer} (${pair.order}): to all ${pair.chronosMs.toFixed(1)} / ${pair.gossipMs.toFixed(1)} ms (ratio ${(pair.chronosMs / pair.gossipMs).toFixed(3)}); CPU ${c.cpuMs.toFixed(0)} / ${g.cpuMs.toFixed(0)} ms; GC ${c.gcMs.toFixed(0)} / ${g.gcMs.toFixed(0)} ms; loop busy ${c.elu.toFixed(2)} / ${g.elu.toFixed(2)}; ${waits}; reached ${chronosRun.seenMs.length} / ${gossipRun.seenMs.length}; copies ${chronosRun.copies} / ${gossipRun.copies}; window bytes ${chronosRun.windowBytes} / ${gossipRun.windowBytes}; mesh ${gossipRun.meshPeers}; connections ${chronosRun.connections} / ${gossipRun.connections}; late ${chronosRun.injectedLateMs?.toFixed(0)} ms${replanned ? '; Chronos re-timed' : ''} ${JSON.stringify(chronosRun.dropped)}`,
    )
  }
  const [chronosState, libp2pState] = await Promise.all([chronos.state(), libp2p.state()])
  await Promise.all([chronos.stop(), libp2p.stop()])
  const result = summarise(size, pairs, mesh, chronosState, libp2pState)
  propagation[size.label] = result.figures
  rows.push(...result.rows)
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
    // One round each, not timed: the first messages meet cold code and growing buffers.
    await ours.send(message, count)
    await theirs.send(message, count)
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
for (const [label, value] of Object.entries(propagation)) {
  const { per_block: _perBlock, ...figures } = value as Record<string, unknown>
  console.log(`  ${label}: ${JSON.stringify(figures)}`)
}
for (const [label, value] of Object.entries(throughput))
  console.log(`  throughput ${label}: ${JSON.stringify(value)}`)
const path = writeResults('libp2p', rows, {
  agreement: headlineFigures(propagation, throughput),
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
    layout:
      'each stack: its 30 nodes in one child process of their own (one event loop), the parent pairs blocks over IPC',
    chronos: 'TCP, JSON frames, no encryption, sqrt(m) full blocks + hash announcements',
    libp2p:
      'libp2p 2.9.0, @libp2p/tcp 10.1.9, noise 16.1.5, yamux 7.0.4, identify 3, gossipsub 14.1.2 defaults (D=6, StrictSign, floodPublish), topic validator = Chronos block check; connection-monitor ping timeout >= 60 s',
  },
})
console.log(`\nwrote ${path}`)

/**
 * Figures of one size, over the measured pairs (warm-ups are only in `per_block`): ratios
 * (median and quartiles of the per-pair ratios) only if the size is valid.
 */
function summarise(
  size: SizeCase,
  everyPair: Pair[],
  mesh: { formed: boolean; sizes: number[]; waitedMs: number },
  chronosState: Awaited<ReturnType<Awaited<ReturnType<typeof startHost>>['state']>>,
  libp2pState: Awaited<ReturnType<Awaited<ReturnType<typeof startHost>>['state']>>,
): { figures: Record<string, unknown>; rows: Comparison[] } {
  const pairs = everyPair.filter((p) => !p.warmup)
  const perNode = (bytes: number) => bytes / NODES
  const duplicates = (d: Delivery) => d.copies / (NODES - 1) - 1
  const finite = (values: number[]) => values.filter(Number.isFinite)
  const stackFigures = (pick: (p: Pair) => Delivery, ms: (p: Pair) => number) => {
    const times = finite(pairs.map(ms))
    const dup = pairs.map((p) => duplicates(pick(p)))
    return {
      blocks_reaching_all: times.length,
      time_to_all_ms: {
        p50: round(quantile(times, 0.5)),
        p99: round(quantile(times, 0.99)),
        ...roundAll(spreadOf(times)),
      },
      bytes_per_node_per_block: {
        median: Math.round(median(pairs.map((p) => perNode(pick(p).windowBytes)))),
        ...roundAll(spreadOf(pairs.map((p) => Math.round(perNode(pick(p).windowBytes))))),
      },
      duplicates_per_node: { median: round(median(dup)), ...roundAll(spreadOf(dup)) },
      cpu_ms_to_all: { median: round(median(finite(pairs.map((p) => pick(p).toAll.cpuMs)))) },
      gc_ms_to_all: { median: round(median(finite(pairs.map((p) => pick(p).toAll.gcMs)))) },
      cpu_wait_ms_to_all: {
        median: round(median(finite(pairs.map((p) => pick(p).toAll.cpuWaitMs)))),
      },
      event_loop_busy_to_all: {
        median: round(median(finite(pairs.map((p) => pick(p).toAll.elu)))),
      },
      cpu_ms_per_block_window: round(median(pairs.map((p) => pick(p).cpuMsWindow))),
      announcements_per_node_per_block: round(
        median(pairs.map((p) => pick(p).announcements / NODES)),
      ),
      connections_at_each_block: pairs.map((p) => pick(p).connections),
    }
  }
  const invalid: string[] = []
  if (!mesh.formed)
    invalid.push(
      `gossipsub mesh did not reach D_lo = ${D_LO} at every node within ${MESH_DEADLINE_MS} ms (sizes ${mesh.sizes.join(',')})`,
    )
  const missedChronos = pairs.filter((p) => !Number.isFinite(p.chronosMs)).length
  const missedGossip = pairs.filter((p) => !Number.isFinite(p.gossipMs)).length
  if (missedChronos)
    invalid.push(
      `${missedChronos} of ${pairs.length} Chronos blocks did not reach all ${NODES} nodes within the round`,
    )
  if (missedGossip)
    invalid.push(
      `${missedGossip} of ${pairs.length} gossipsub blocks did not reach all ${NODES} nodes within ${GOSSIPSUB_DEADLINE_ROUNDS * size.roundMs} ms`,
    )
  const common = {
    chronos: stackFigures(
      (p) => p.chronos,
      (p) => p.chronosMs,
    ),
    gossipsub: {
      ...stackFigures(
        (p) => p.gossipsub,
        (p) => p.gossipMs,
      ),
      mesh_at_start: {
        min: Math.min(...mesh.sizes),
        max: Math.max(...mesh.sizes),
        waited_ms: Math.round(mesh.waitedMs),
      },
      mesh_peers_at_each_block: everyPair.map((p) => p.gossipsub.meshPeers),
      mesh_at_end: { min: Math.min(...libp2pState.peers), max: Math.max(...libp2pState.peers) },
      connections_closed: libp2pState.disconnects,
      publish_failures: libp2pState.failures,
      unhandled_rejections: libp2pState.unhandled,
    },
    phase_bytes_per_node_per_block: {
      chronos: Math.round(perNode(chronosState.bytes) / everyPair.length),
      gossipsub: Math.round(perNode(libp2pState.bytes) / everyPair.length),
    },
    chronos_retimed_blocks: pairs.filter((p) => p.replanned).length,
    block_bytes: pairs.map((p) => p.blockBytes),
    producers: pairs.map((p) => p.producer),
    blocks: pairs.length,
    warmup_pairs: everyPair.length - pairs.length,
    round_ms: size.roundMs,
    per_block: everyPair.map((p) => ({
      index: p.index,
      warmup: p.warmup,
      order: p.order,
      producer: p.producer,
      ratio: round(p.chronosMs / p.gossipMs),
      less_cpu_wait_ratio: round(
        (p.chronosMs - p.chronos.toAll.cpuWaitMs) / (p.gossipMs - p.gossipsub.toAll.cpuWaitMs),
      ),
      cpu_ratio: round(p.chronos.toAll.cpuMs / p.gossipsub.toAll.cpuMs),
      chronos: blockDetail(p.chronos, p.chronosMs),
      gossipsub: blockDetail(p.gossipsub, p.gossipMs),
    })),
  }
  if (invalid.length) {
    say(`${size.label}: NOT a valid measurement, no ratios: ${invalid.join('; ')}`)
    return { figures: { valid: false, invalid_because: invalid, ...common }, rows: [] }
  }
  const timeRow = fromRatios(
    `time_to_all_vs_gossipsub_${size.label}`,
    'gossipsub, same block',
    pairs.map((p) => ({ subject: p.chronosMs * 1e6, baseline: p.gossipMs * 1e6 })),
    0.8,
  )
  const bytesRow = fromRatios(
    `bytes_per_node_vs_gossipsub_${size.label}`,
    'gossipsub, same block, same window',
    pairs.map((p) => ({ subject: p.chronos.windowBytes, baseline: p.gossipsub.windowBytes })),
    1.0,
  )
  // What time to all would have been with a core to itself: wall less the event-loop thread's
  // wait for a core (meter.ts). Equal to the wall figure on a quiet machine.
  const unqueued = (d: Delivery, ms: number) => ms - d.toAll.cpuWaitMs
  const unqueuedRow = fromRatios(
    `time_to_all_less_cpu_wait_vs_gossipsub_${size.label}`,
    'gossipsub, same block',
    pairs.map((p) => ({
      subject: unqueued(p.chronos, p.chronosMs) * 1e6,
      baseline: unqueued(p.gossipsub, p.gossipMs) * 1e6,
    })),
    0.8,
  )
  const cpuRow = fromRatios(
    `cpu_to_all_vs_gossipsub_${size.label}`,
    'gossipsub, same block',
    pairs.map((p) => ({ subject: p.chronos.toAll.cpuMs, baseline: p.gossipsub.toAll.cpuMs })),
  )
  const chronosTimes = pairs.map((p) => p.chronosMs)
  const gossipTimes = pairs.map((p) => p.gossipMs)
  const quantileRatio = (q: number) => {
    const ratio = (keep: (i: number) => boolean) =>
      quantile(
        chronosTimes.filter((_, i) => keep(i)),
        q,
      ) /
      quantile(
        gossipTimes.filter((_, i) => keep(i)),
        q,
      )
    // Spread of a ratio of quantiles: the same ratio with each round left out in turn.
    const leaveOneOut = pairs.map((_, out) => ratio((i) => i !== out))
    return {
      value: round(ratio(() => true)),
      leave_one_out: { min: round(Math.min(...leaveOneOut)), max: round(Math.max(...leaveOneOut)) },
    }
  }
  const p50 = quantileRatio(0.5)
  const p99 = quantileRatio(0.99)
  const paired = (row: Comparison) => ({
    median: round(row.ratio),
    ...roundAll(row.spread),
    rounds: row.rounds,
  })
  return {
    figures: {
      valid: true,
      time_to_all_paired_ratio: paired(timeRow),
      time_to_all_less_cpu_wait_paired_ratio: paired(unqueuedRow),
      time_to_all_p50_vs_gossipsub: p50.value,
      time_to_all_p99_vs_gossipsub: p99.value,
      time_to_all_quantile_spread: { p50: p50.leave_one_out, p99: p99.leave_one_out },
      cpu_to_all_vs_gossipsub: paired(cpuRow),
      bytes_per_node_vs_gossipsub: round(bytesRow.ratio),
      bytes_per_node_paired_ratio: paired(bytesRow),
      duplicates_per_node: {
        chronos: common.chronos.duplicates_per_node.median,
        gossipsub: common.gossipsub.duplicates_per_node.median,
      },
      ...common,
    },
    // The bytes row is kept out of the time table (bench-kit prints ns); its figures are above.
    rows: [timeRow, unqueuedRow],
  }
}

/** One stack's side of one block, for finding where a slow block's time went. */
function blockDetail(d: Delivery, toAllMs: number) {
  const seen = [...d.seenMs].sort((a, b) => a - b)
  return {
    ms: round(toAllMs),
    half_ms: round(quantile(seen, 0.5)),
    cpu_ms: round(d.toAll.cpuMs),
    gc_ms: round(d.toAll.gcMs),
    major_gcs: d.toAll.majorGcs,
    loop_busy: round(d.toAll.elu),
    cpu_wait_ms: round(d.toAll.cpuWaitMs),
    on_cpu_ms: round(d.toAll.onCpuMs),
    copies: d.copies,
    bytes: d.windowBytes,
    window_ms: Math.round(d.windowMs),
    cpu_ms_window: round(d.cpuMsWindow),
    ...(d.meshPeers === undefined ? {} : { mesh_peers: d.meshPeers }),
    ...(d.injectedLateMs === undefined ? {} : { injected_late_ms: Math.round(d.injectedLateMs) }),
  }
}

/**
 * The figures bench-kit's agreement tool compares across runs (a flat name → value map; it
 * tabulates only these): each size's ratios and both stacks' medians behind them, throughput.
 */
function headlineFigures(
  propagation: Record<string, unknown>,
  throughput: Record<string, unknown>,
): Record<string, number | null> {
  const out: Record<string, number | null> = {}
  const at = (value: unknown, path: string): unknown =>
    path
      .split('.')
      .reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], value)
  const put = (name: string, value: unknown) => {
    out[name] = typeof value === 'number' && Number.isFinite(value) ? value : null
  }
  for (const [size, figures] of Object.entries(propagation)) {
    put(
      `${size} time_to_all_vs_gossipsub (paired median)`,
      at(figures, 'time_to_all_paired_ratio.median'),
    )
    put(
      `${size} time_to_all less CPU wait (paired median)`,
      at(figures, 'time_to_all_less_cpu_wait_paired_ratio.median'),
    )
    put(`${size} time_to_all_p50_vs_gossipsub`, at(figures, 'time_to_all_p50_vs_gossipsub'))
    put(`${size} time_to_all_p99_vs_gossipsub`, at(figures, 'time_to_all_p99_vs_gossipsub'))
    put(
      `${size} cpu_to_all_vs_gossipsub (paired median)`,
      at(figures, 'cpu_to_all_vs_gossipsub.median'),
    )
    put(`${size} bytes_per_node_vs_gossipsub`, at(figures, 'bytes_per_node_vs_gossipsub'))
    put(`${size} duplicates_per_node Chronos`, at(figures, 'duplicates_per_node.chronos'))
    put(`${size} duplicates_per_node gossipsub`, at(figures, 'duplicates_per_node.gossipsub'))
    put(`${size} Chronos time to all p50, ms`, at(figures, 'chronos.time_to_all_ms.p50'))
    put(`${size} gossipsub time to all p50, ms`, at(figures, 'gossipsub.time_to_all_ms.p50'))
    put(`${size} Chronos CPU to all, ms`, at(figures, 'chronos.cpu_ms_to_all.median'))
    put(`${size} gossipsub CPU to all, ms`, at(figures, 'gossipsub.cpu_ms_to_all.median'))
  }
  for (const [label, figures] of Object.entries(throughput))
    put(`throughput_vs_libp2p ${label}`, at(figures, 'throughput_vs_libp2p'))
  return out
}

function round(value: number): number {
  return Number(value.toFixed(3))
}
function roundAll<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, round(v as number)])) as T
}
