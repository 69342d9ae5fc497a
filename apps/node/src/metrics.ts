import { Counter, Gauge, Registry } from 'prom-client'

/** The node's Prometheus metrics, on a registry of its own (several nodes can share a process). */
export function createMetrics() {
  const registry = new Registry()
  const metrics = {
    registry,
    height: new Gauge({
      name: 'chronos_height',
      help: 'Height of the confirmed head',
      registers: [registry],
    }),
    round: new Gauge({ name: 'chronos_round', help: 'Current round', registers: [registry] }),
    peers: new Gauge({
      name: 'chronos_peers',
      help: 'Connected peers by connection direction',
      labelNames: ['direction'] as const,
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
  return metrics
}

export type NodeMetrics = ReturnType<typeof createMetrics>
