import { readFileSync } from 'node:fs'
import { PROTOCOL_VERSION } from '@chronos/codec'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** What the gauges read at scrape time, so they can never lag what `/status` says. */
export interface MetricsSample {
  height: number
  round: number
  /** Each relaying peer once, by the directions it is connected in. */
  peers: { inbound: number; outbound: number; both: number }
  /** Connected observers (e.g. the bridge): not peers that relay, so counted apart. */
  observers: number
  /** The implied offset of our clock while it is suspected slow (clock-check.ts), in ms; 0 otherwise. */
  clockOffsetMs: number
}

export interface MetricsOptions {
  /** Read on every scrape for chronos_height, chronos_round and chronos_peers. */
  sample?: () => MetricsSample
  /**
   * Process and Node.js metrics (prom-client's `collectDefaultMetrics`: CPU,
   * memory, event-loop lag, GC, handles). They describe the whole process, so
   * a process that runs many nodes (tests, simulations) turns them on once at
   * most. Default false; the CLI turns them on.
   */
  processMetrics?: boolean
  /** Round length, to place the arrival-delay buckets across a round. Default 1000. */
  roundMs?: number
}

/** The package version, for chronos_build_info (read once; src/ and dist/ sit beside package.json). */
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version

const UNLINTED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

/** Fractions of a round at which block arrival delays are bucketed. */
const ROUND_FRACTIONS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2]

/** The node's Prometheus metrics, on a registry of its own (several nodes can share a process). */
export function createMetrics(options: MetricsOptions = {}) {
  const registry = new Registry()
  if (options.processMetrics) {
    collectDefaultMetrics({ register: registry })
    // Gauges named like counters (promtool: "non-counter metrics should not
    // have _total suffix"); their by-type siblings (nodejs_active_handles{type}
    // and so on) carry the same counts.
    for (const name of UNLINTED_DEFAULTS) registry.removeSingleMetric(name)
  }
  const sample = options.sample
  const roundSeconds = (options.roundMs ?? 1000) / 1000
  const metrics = {
    registry,
    buildInfo: new Gauge({
      name: 'chronos_build_info',
      help: 'Always 1; the labels say which build runs',
      labelNames: ['version', 'protocol', 'nodejs'] as const,
      registers: [registry],
    }),
    height: new Gauge({
      name: 'chronos_height',
      help: 'Height of the confirmed head',
      registers: [registry],
      collect() {
        if (sample) this.set(sample().height)
      },
    }),
    round: new Gauge({
      name: 'chronos_round',
      help: 'Current round (as /status reports it)',
      registers: [registry],
      collect() {
        if (sample) this.set(sample().round)
      },
    }),
    peers: new Gauge({
      name: 'chronos_peers',
      help: 'Connected peers (observers apart), each counted once, by the directions it is connected in',
      labelNames: ['direction'] as const,
      registers: [registry],
      collect() {
        if (!sample) return
        const { peers } = sample()
        for (const direction of ['inbound', 'outbound', 'both'] as const)
          this.set({ direction }, peers[direction])
      },
    }),
    observers: new Gauge({
      name: 'chronos_observers',
      help: 'Connected observers (Status feature "observer"), not counted in chronos_peers',
      registers: [registry],
      collect() {
        if (sample) this.set(sample().observers)
      },
    }),
    clockOffset: new Gauge({
      name: 'chronos_clock_suspected_offset_seconds',
      help: 'While several distinct peers are refused IMPOSSIBLE_HEIGHT: the implied offset of our clock (negative: slow, a lower bound); 0 otherwise',
      registers: [registry],
      collect() {
        if (sample) this.set(sample().clockOffsetMs / 1000)
      },
    }),
    impossibleHeights: new Counter({
      name: 'chronos_impossible_height_refusals_total',
      help: 'Statuses refused because their height is above our current round + 1 (from many peers: our clock is slow)',
      registers: [registry],
    }),
    arrivalDelay: new Histogram({
      name: 'chronos_block_arrival_delay_seconds',
      help: "How far into its round a peer's candidate block arrived",
      buckets: ROUND_FRACTIONS.map((fraction) => fraction * roundSeconds),
      registers: [registry],
    }),
    syncImport: new Histogram({
      name: 'chronos_sync_import_seconds',
      help: 'Time to write one batch of synced blocks to the store (append or reorg)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    confirmed: new Counter({
      name: 'chronos_blocks_confirmed_total',
      help: 'Round picks written to the store',
      registers: [registry],
    }),
    produced: new Counter({
      name: 'chronos_blocks_produced_total',
      help: 'Candidates this node produced',
      registers: [registry],
    }),
    candidates: new Counter({
      name: 'chronos_candidates_total',
      help: 'Valid candidates received, by whether they were selected',
      labelNames: ['selected'] as const,
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'chronos_blocks_dropped_total',
      help: 'Received blocks not taken as candidates, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    sent: new Counter({
      name: 'chronos_gossip_sent_total',
      help: 'Blocks and hashes sent to peers',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    synced: new Counter({
      name: 'chronos_sync_blocks_total',
      help: 'Blocks applied by sync',
      registers: [registry],
    }),
    syncFailures: new Counter({
      name: 'chronos_sync_failures_total',
      help: "Syncs that failed part way: retried (failed with the connection, or of ours) or disproved (by the peer's blocks or offences)",
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    reorgs: new Counter({
      name: 'chronos_reorgs_total',
      help: 'Reorganisations',
      registers: [registry],
    }),
    closes: new Counter({
      name: 'chronos_peer_closes_total',
      help: 'Closed peer connections by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    penalties: new Counter({
      name: 'chronos_peer_penalties_total',
      help: 'Misbehaviours counted against peers',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    addressBook: new Counter({
      name: 'chronos_address_book_total',
      help: 'Address book entries learned from peers, dialed, verified by our own dial, and forgotten',
      labelNames: ['event'] as const,
      registers: [registry],
    }),
    mempool: new Gauge({
      name: 'chronos_mempool_size',
      help: 'Transactions waiting',
      registers: [registry],
    }),
  }
  metrics.buildInfo.set(
    { version: VERSION, protocol: String(PROTOCOL_VERSION), nodejs: process.version },
    1,
  )
  return metrics
}

export type NodeMetrics = ReturnType<typeof createMetrics>
