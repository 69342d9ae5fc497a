// Block propagation over a simulated network: real ChronosNodes on the
// in-memory transport, one producer, and per block the time until 50, 90
// and 100 % of nodes hold it as a candidate. The same topology is run a
// second time with flooding (every block whole to every peer) as the
// byte-count baseline.
//
// Over the in-memory transport the run is on virtual time (virtual-time.ts):
// 200 nodes share one thread, and on the real clock their CPU work would
// queue up and be counted as network delay. Over TCP it runs on the real
// clock and so measures the whole stack, CPU included.

import { createServer } from 'node:net'
import { createGenesis, setPublicKeyCacheSize } from '@chronos/codec'
import { memoryNetwork, tcpTransport } from '@chronos/transport'
import { MemoryLevel } from 'memory-level'
import { pino } from 'pino'
import { ChronosNode, resolveConfig } from '../src/index.js'
import { sharedBlockChecks } from './shared-block-checks.js'
import { simulatedNodeKeys } from './sim-keys.js'
import { SharedRecords, simulatedLevel } from './sim-level.js'
import { type RelayGraph, runSpecModel, type SpecModelResult } from './spec-model.js'
import { installVirtualTime } from './virtual-time.js'

export interface PropagationParams {
  /** Called with progress lines (benchmarks print them; tests pass nothing). */
  progress?: (line: string) => void
  nodes: number
  /** Peers each node dials (dial-back roughly doubles its peer count). */
  dials: number
  blocks: number
  transactions: number
  roundMs: number
  /** Mean one-way latency of a simulated link. */
  latencyMs: number
  /** Each message's latency is uniform in latencyMs ± jitterMs. */
  jitterMs: number
  bandwidthBytesPerSecond: number
  flood: boolean
  seed: number
  /** `memory` (simulated links, default) or `tcp` (real sockets on loopback, no added latency). */
  transport?: 'memory' | 'tcp'
  /** Memory transport only: `real` runs on the wall clock instead of virtual time. */
  clock?: 'virtual' | 'real'
  /**
   * Memory transport only: decode and verify each block once for all nodes
   * (the network's `shareBlocks`), instead of once per node. What a node
   * does is the same; default true.
   */
  shareBlocks?: boolean
  /**
   * Called once every node is open, with the nodes in index order (node 0
   * produces), and again (`measuring`) when the measured part begins: a
   * tracer (propagation-trace.ts) subscribes to their events here.
   */
  observe?: (nodes: readonly ChronosNode[], phase: 'opened' | 'measuring') => void
}

export interface PropagationResult {
  /** Per block: ms from production to 50 %, 90 %, 100 % of nodes. */
  reach: { p50: number; p90: number; p100: number; reached: number }[]
  /**
   * Hops from the producer to the farthest node × (latency + serialization), on the graph each
   * block was relayed over (median over blocks).
   */
  idealMs: number
  hops: number
  /** The producer's eccentricity in the link graph the nodes were told to build (the ideal's first basis). */
  linkGraphHops: number
  /** Mean neighbours per node in the link graph the nodes were told to build. */
  linkDegree: number
  /** Mean relay peers per node over the measured blocks (the graphs the spec model runs on). */
  relayDegree: number
  /** Bytes put on links (memory transport only; NaN over TCP). */
  bytes: number
  fullBlockDeliveries: number
  blockBytes: number
  /** The same topology and link conditions under the spec's rule with free CPU (spec-model.ts). */
  model: {
    timeToAll: number[]
    fullBlockDeliveries: number
    detail: SpecModelResult
    /** The model on `links` alone (the graph before peer exchange added to it). */
    configuredGraphFullBlocksPerNode: number
  }
  /** The measured part (first block produced to the last counted): wall-clock and simulated ms. */
  wallMs: number
  simulatedMs: number
  /** CPU time of the process over the measured part, ms (user + system). */
  cpuMs: number
  /** Heap and RSS growth per node from before the nodes were opened to all connected, bytes. */
  heapPerNode: number
  /** Heap growth per node from before the nodes were opened to the last block counted (chains included). */
  heapPerNodeAfterBlocks: number
  rssPerNode: number
  /** Wall-clock ms from opening the first node to all connected. */
  setupWallMs: number
  /**
   * Where the run's CPU went, phase by phase: `open` (every node's key, store and
   * genesis), `start` (listening, first dials), `connect` (identity handshakes, peer
   * exchange, until all connected), `measure` (the blocks), `stop`.
   */
  phases: Phase[]
  /** CPU ms of the process between consecutive blocks of the measured part (production to production). */
  cpuMsPerBlock: number[]
}

export interface Phase {
  name: 'open' | 'start' | 'connect' | 'measure' | 'stop'
  wallMs: number
  cpuMs: number
  simulatedMs: number
  /** Monotonic µs at the phase's start (the clock of `node --cpu-prof`'s timestamps). */
  startMicros: number
  /** Heap used at the phase's end, bytes. */
  heapUsed: number
}

/** Wall-clock ms that virtual time does not fake. */
const wallNow = () => Number(process.hrtime.bigint()) / 1e6
const collect = () => (globalThis as { gc?: () => void }).gc?.()
const cpuNow = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** Times consecutive phases on the wall clock, the process's CPU and the (maybe virtual) clock. */
function phaseClock(say: (line: string) => void) {
  const phases: Phase[] = []
  let open: { name: Phase['name']; wall: number; cpu: number; simulated: number } | undefined
  const close = () => {
    if (!open) return
    phases.push({
      name: open.name,
      wallMs: wallNow() - open.wall,
      cpuMs: cpuNow() - open.cpu,
      simulatedMs: performance.now() - open.simulated,
      startMicros: Math.round(open.wall * 1000),
      heapUsed: process.memoryUsage().heapUsed,
    })
    const phase = phases.at(-1)!
    // Printed as each phase ends, so that a run stopped early still tells where its CPU went.
    say(
      `phase ${phase.name}: ${(phase.cpuMs / 1000).toFixed(1)} CPU s, ${(phase.wallMs / 1000).toFixed(1)} wall s, ${(phase.simulatedMs / 1000).toFixed(2)} simulated s, heap ${(phase.heapUsed / 2 ** 20).toFixed(0)} MiB`,
    )
    open = undefined
  }
  return {
    phases,
    /** Ends the phase running (if any) and starts `name` (undefined: just ends it). */
    enter(name?: Phase['name']) {
      close()
      if (name) open = { name, wall: wallNow(), cpu: cpuNow(), simulated: performance.now() }
    },
  }
}

const silent = pino({ level: 'silent' })
/** Where virtual time starts (2026-01-01): block timestamps and hashes repeat from run to run. */
const VIRTUAL_START_MS = Date.UTC(2026, 0, 1)

function rng(seed: number) {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
}

export async function runPropagation(p: PropagationParams): Promise<PropagationResult> {
  // On virtual time a run repeats exactly: a fixed start, and the nodes' random draws seeded.
  const virtual =
    p.transport !== 'tcp' && p.clock !== 'real'
      ? installVirtualTime({ startMs: VIRTUAL_START_MS, seed: p.seed })
      : undefined
  // One process holds every node's peers' keys: a cache sized for one node (256) would parse
  // each key again at nearly every handshake; sized for the network, each is parsed once.
  const keyCacheSize = setPublicKeyCacheSize(Math.max(256, p.nodes + 16))
  try {
    return await propagate(p)
  } finally {
    setPublicKeyCacheSize(keyCacheSize)
    virtual?.uninstall()
  }
}

async function propagate(p: PropagationParams): Promise<PropagationResult> {
  let bytes = 0
  // "50 ms with 10 ms jitter" as netem means it: uniform in [40, 60). The transport's jitter
  // is one-sided (delay = latency + [0, jitter)), hence the translation.
  const network = memoryNetwork({
    latencyMs: p.latencyMs - p.jitterMs,
    jitterMs: 2 * p.jitterMs,
    bandwidthBytesPerSecond: p.bandwidthBytesPerSecond,
    seed: p.seed,
    onTransmit: (t) => {
      bytes += t.bytes
    },
    shareBlocks: p.shareBlocks ?? true,
  })
  const blockChecks = network.sharedBlocks ? sharedBlockChecks(network.sharedBlocks) : undefined
  // Start a few rounds from now so every node is connected before the first block.
  const genesis = createGenesis({
    network: 'propagation',
    roundMs: p.roundMs,
    timestamp: Date.now(),
  })
  const random = rng(p.seed)
  const nodes: ChronosNode[] = []
  collect()
  const before = process.memoryUsage()
  const setupStart = wallNow()
  const say = p.progress ?? (() => {})
  const clock = phaseClock(say)
  clock.enter('open')
  const overTcp = p.transport === 'tcp'
  const addresses = overTcp
    ? await Promise.all(
        Array.from({ length: p.nodes }, async () => `127.0.0.1:${await freePort()}`),
      )
    : Array.from({ length: p.nodes }, (_, i) => `n${i}:7000`)
  const links = new Map<number, Set<number>>()
  for (let i = 0; i < p.nodes; i++) links.set(i, new Set())
  const dialsOf = (i: number) => {
    const chosen = new Set<number>()
    while (chosen.size < Math.min(p.dials, p.nodes - 1)) {
      const j = Math.floor(random() * p.nodes)
      if (j !== i) chosen.add(j)
    }
    for (const j of chosen) {
      links.get(i)!.add(j)
      links.get(j)!.add(i)
    }
    return [...chosen].map((j) => addresses[j]!)
  }
  const keys = simulatedNodeKeys(p.seed, p.nodes)
  const records = new SharedRecords()
  for (let i = 0; i < p.nodes; i++) {
    const config = resolveConfig(
      {},
      {
        data: '(memory)',
        genesis: '(memory)',
        listen: addresses[i],
        peers: dialsOf(i),
        produce: i === 0,
        txRate: (p.transactions * 1000) / p.roundMs,
        limits: {
          statusIntervalMs: 2000,
          maxOutbound: 64,
          maxInbound: 128,
          fetchTimeoutMs: 4 * p.latencyMs + 200,
        },
      },
    )
    nodes.push(
      await ChronosNode.open({
        config,
        genesis,
        logger: silent,
        transport: overTcp ? tcpTransport() : network.transport({ host: `n${i}` }),
        db: overTcp ? new MemoryLevel({ valueEncoding: 'utf8' }) : simulatedLevel(records),
        identity: keys[i],
        fullBlockPeers: p.flood ? (m) => m : undefined,
        blockChecks: overTcp ? undefined : blockChecks,
      }),
    )
  }
  const seen = new Map<string, number[]>()
  const producedAt = new Map<string, number>()
  let fullBlockDeliveries = 0
  let blockBytes = 0
  let measuring = true
  // The graph each block is relayed over, for the spec model and the ideal: what the nodes were
  // told to build (`links`) only at first, since peer exchange dials more while targetOutbound
  // is not reached (200 nodes, 4 dials: 7.9 relay peers per node at the start, 9.3 a few rounds on).
  const indexOf = new Map(addresses.map((address, i) => [address, i]))
  const graphs: RelayGraph[] = []
  const relayGraph = (): RelayGraph =>
    new Map(
      nodes.map((node, i) => [
        i,
        new Set(
          node.peers
            .relayPeers()
            .map((peer) => indexOf.get(peer.address))
            .filter((j) => j !== undefined),
        ),
      ]),
    )
  nodes[0]!.gossip.on('produced', (block) => {
    if (!measuring) return
    producedAt.set(block.block_header.hash, performance.now())
    graphs.push(relayGraph())
    blockBytes = Buffer.byteLength(JSON.stringify({ code: 'NEW_BLOCK', data: block }))
  })
  for (const node of nodes) {
    node.gossip.on('candidate', (block) => {
      const times = seen.get(block.block_header.hash) ?? []
      times.push(performance.now())
      seen.set(block.block_header.hash, times)
    })
    node.gossip.on('sent', (s) => {
      if (s.kind === 'block' && producedAt.has(s.hash)) fullBlockDeliveries++
    })
  }
  p.observe?.(nodes, 'opened')
  say(
    `${p.flood ? 'flooding' : 'gossip'} over ${p.transport ?? 'memory'}: starting ${p.nodes} nodes`,
  )
  clock.enter('start')
  for (const node of nodes) await node.start()
  clock.enter('connect')
  // Measure only once every link is usable both ways: the peers a node dialed and the
  // ones that dialed it (it dials them back); before that the graph is sparser than `links`.
  // Counted node by node as each fills up: re-checking every node on every event is quadratic,
  // which at 10,000 nodes costs more than the run itself.
  await new Promise<void>((resolve) => {
    const full = new Set<number>()
    const offs: (() => void)[] = []
    const check = (i: number) => {
      if (full.has(i) || nodes[i]!.peers.readyPeers().length < links.get(i)!.size) return
      full.add(i)
      if (full.size < nodes.length) return
      for (const off of offs) off()
      resolve()
    }
    nodes.forEach((node, i) => {
      const listener = () => check(i)
      node.peers.on('ready', listener)
      offs.push(() => node.peers.off('ready', listener))
    })
    for (let i = 0; i < nodes.length; i++) check(i)
  })
  clock.enter()
  collect()
  const connected = process.memoryUsage()
  const setupWallMs = wallNow() - setupStart
  say(
    `all connected in ${(setupWallMs / 1000).toFixed(1)} s, heap ${(connected.heapUsed / 2 ** 20).toFixed(0)} MiB; measuring`,
  )
  const wallStart = wallNow()
  const simulatedStart = performance.now()
  const cpuStart = process.cpuUsage()
  bytes = 0
  fullBlockDeliveries = 0
  producedAt.clear()
  graphs.length = 0
  seen.clear()
  p.observe?.(nodes, 'measuring')
  clock.enter('measure')
  const startHeight = nodes[0]!.store.height()
  const cpuMsPerBlock: number[] = []
  let lastBlockCpu = cpuNow()
  await new Promise<void>((resolve) => {
    const off = nodes[0]!.store.onHead(({ head }) => {
      const done = head.block_header.height - startHeight
      const cpuAt = cpuNow()
      if (done > 1) {
        cpuMsPerBlock.push(cpuAt - lastBlockCpu)
        say(
          `block ${done}: ${((cpuAt - lastBlockCpu) / 1000).toFixed(1)} CPU s since block ${done - 1}`,
        )
      }
      lastBlockCpu = cpuAt
      if (done > 0 && done % Math.max(1, Math.round(p.blocks / 10)) === 0 && done < p.blocks)
        say(`${done}/${p.blocks} blocks, ${((wallNow() - wallStart) / 1000).toFixed(0)} s`)
      if (head.block_header.height < startHeight + p.blocks) return
      measuring = false
      nodes[0]!.setProducing(false)
      off()
      resolve()
    })
  })
  // Let the last block finish spreading before counting.
  await new Promise((resolve) => setTimeout(resolve, p.roundMs))
  const cpu = process.cpuUsage(cpuStart)
  const wallMs = wallNow() - wallStart
  const simulatedMs = performance.now() - simulatedStart
  collect()
  const afterBlocks = process.memoryUsage()
  clock.enter('stop')
  for (const node of nodes) await node.stop()
  clock.enter()

  const reach: PropagationResult['reach'] = []
  for (const [hash, at] of producedAt) {
    const times = (seen.get(hash) ?? []).map((t) => t - at).sort((a, b) => a - b)
    const quantile = (q: number) =>
      times[Math.min(times.length - 1, Math.ceil(q * p.nodes) - 1)] ?? Number.NaN
    reach.push({
      p50: quantile(0.5),
      p90: quantile(0.9),
      p100: times.length === p.nodes ? times.at(-1)! : Number.NaN,
      reached: times.length,
    })
  }
  // Per block: the producer's eccentricity in the graph it was relayed over; the ideal is the median.
  const hopsPerBlock = graphs.map(eccentricityOfProducer).sort((a, b) => a - b)
  const hops = hopsPerBlock[Math.floor(hopsPerBlock.length / 2)] ?? eccentricityOfProducer(links)
  const serializationMs = (blockBytes * 1000) / p.bandwidthBytesPerSecond
  const model = runSpecModel({
    graphs,
    latencyMs: p.latencyMs - p.jitterMs,
    jitterMs: 2 * p.jitterMs,
    blockSerializationMs: serializationMs,
    seed: p.seed,
  })
  // The same model on the graph the nodes were told to build, as the figure was first reported.
  const configured = runSpecModel({
    graphs: graphs.map(() => links),
    latencyMs: p.latencyMs - p.jitterMs,
    jitterMs: 2 * p.jitterMs,
    blockSerializationMs: serializationMs,
    seed: p.seed,
  })
  const meanDegree = (graph: RelayGraph) =>
    [...graph.values()].reduce((sum, peers) => sum + peers.size, 0) / p.nodes
  return {
    reach,
    idealMs: hops * (p.latencyMs + serializationMs),
    hops,
    linkGraphHops: eccentricityOfProducer(links),
    linkDegree: meanDegree(links),
    relayDegree: graphs.length
      ? graphs.reduce((sum, graph) => sum + meanDegree(graph), 0) / graphs.length
      : Number.NaN,
    bytes: overTcp ? Number.NaN : bytes,
    fullBlockDeliveries: fullBlockDeliveries / producedAt.size,
    blockBytes,
    model: {
      timeToAll: model.timeToAll,
      fullBlockDeliveries: model.fullBlocksPerNode * p.nodes,
      detail: model,
      configuredGraphFullBlocksPerNode: configured.fullBlocksPerNode,
    },
    wallMs,
    simulatedMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    heapPerNode: (connected.heapUsed - before.heapUsed) / p.nodes,
    heapPerNodeAfterBlocks: (afterBlocks.heapUsed - before.heapUsed) / p.nodes,
    rssPerNode: (connected.rss - before.rss) / p.nodes,
    setupWallMs,
    phases: clock.phases,
    cpuMsPerBlock,
  }
}

/** Hops from node 0 to the node farthest from it (BFS). */
function eccentricityOfProducer(graph: RelayGraph): number {
  const distance = new Map<number, number>([[0, 0]])
  const queue = [0]
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head]!
    for (const next of graph.get(at) ?? [])
      if (!distance.has(next)) {
        distance.set(next, distance.get(at)! + 1)
        queue.push(next)
      }
  }
  return Math.max(...distance.values())
}

export const percentile = (values: number[], q: number) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

/** A loopback port free right now (the benchmark's nodes need their addresses before they start). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}
