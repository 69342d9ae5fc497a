import { inTurnProducer, type Logger, silentLogger } from '@chronos/codec'
import { KnownSet, type LocalChainStatus, PeerManager } from '@chronos/peer'
import { type Transport, tcpTransport } from '@chronos/transport'
import { type ApiStatus, readObservations, readStatus } from './node-api.js'
import type { NetworkView } from './view.js'

/** A node to watch: its P2P address, its HTTP API when it is one of ours, and a name to show. */
export interface BridgeTarget {
  p2p: string
  api?: string
  name?: string
}

export interface ObserverOptions {
  view: NetworkView
  targets: readonly BridgeTarget[]
  /** Where the bridge accepts the dial-back that lets nodes gossip to it. Default 127.0.0.1:0. */
  listen?: string
  /** How often nodes' APIs are read. Default 1 s. */
  pollMs?: number
  transport?: Transport
  logger?: Logger
}

/**
 * The Status the bridge sends: no chain (height 0, no head, no genesis, so
 * any network's nodes accept it), and the 1.1 feature `observer` so that
 * nodes can leave it out of their peer counts and gossip fan-out (peers
 * that do not know the feature ignore it, section 13).
 */
export const OBSERVER_FEATURE = 'observer'
const OBSERVER_STATUS: LocalChainStatus = { height: 0 }

/**
 * Watches the network two ways. As a peer (an observer: no chain, any
 * genesis), it gets every node's Status beats (height, head, round trip)
 * and the blocks nodes gossip to it; that works with any conforming node.
 * From our own nodes' APIs (validated in node-api.ts) it also reads peer
 * lists (the topology, and nodes to discover), how each node first saw each
 * block and from whom, identities and mempools.
 */
export class Observer {
  readonly peers: PeerManager
  private readonly view: NetworkView
  private readonly apis = new Map<string, { api: string; after: number }>()
  /** Operators' names for nodes, by P2P address. */
  private readonly names = new Map<string, string>()
  private readonly asked = new KnownSet(4096)
  private readonly pollMs: number
  private readonly logger: Logger
  private timer: NodeJS.Timeout | undefined
  private polling = false

  constructor(options: ObserverOptions) {
    this.view = options.view
    this.pollMs = options.pollMs ?? 1000
    this.logger = options.logger ?? silentLogger
    for (const target of options.targets) {
      if (target.api) this.apis.set(target.p2p, { api: target.api, after: 0 })
      if (target.name) this.names.set(target.p2p, target.name)
    }
    this.peers = new PeerManager({
      transport: options.transport ?? tcpTransport({ logger: this.logger }),
      listen: options.listen ?? '127.0.0.1:0',
      peers: options.targets.map((t) => t.p2p),
      chain: () => OBSERVER_STATUS,
      features: [OBSERVER_FEATURE],
      handlers: {
        pull: () => null,
        newBlock: (block, session) => {
          const node = session.peerAddress
          if (!node) return
          this.view.observe(node, {
            hash: block.block_header.hash,
            at: Date.now(),
            arrival: 'seen',
            height: block.block_header.height,
            producer: block.block_header.producer,
            transactions: block.transactions.length,
          })
        },
        newBlockHash: (hash, session) => {
          const node = session.peerAddress
          if (node) this.view.observe(node, { hash, at: Date.now(), arrival: 'seen' })
          // Fetch each block once, to learn its height, producer and size.
          if (this.asked.has(hash)) return 'known'
          this.asked.add(hash)
          return 'wanted'
        },
      },
      limits: { maxOutbound: 1000, maxInbound: 1000, statusIntervalMs: 1000 },
      logger: this.logger,
    })
    this.peers.on('status', (peer, status) =>
      this.view.updateNode(peer.address, {
        height: status.height,
        head: status.head ?? null,
        rttMs:
          peer.outbound?.rttMs === undefined ? null : Math.round(peer.outbound.rttMs * 10) / 10,
        name: this.names.get(peer.address),
        up: true,
      }),
    )
    // Down once no connection to it is left (its inbound dial-back may close before or after ours).
    this.peers.on('disconnect', (peer) => {
      if (!peer.connected) this.view.nodeDown(peer.address)
    })
  }

  async start(): Promise<void> {
    await this.peers.start()
    this.timer = setInterval(() => void this.poll(), this.pollMs)
    void this.poll()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.peers.stop()
  }

  private async poll(): Promise<void> {
    if (this.polling) return
    this.polling = true
    try {
      const edges: [string, string][] = []
      await Promise.all(
        [...this.apis].map(async ([p2p, source]) => {
          try {
            const status = await readStatus(source.api)
            this.applyStatus(status, edges)
            const { reports, last, invalid } = await readObservations(source.api, source.after)
            source.after = last
            if (invalid)
              this.logger.warn({ node: p2p, invalid }, 'node API sent invalid observations')
            for (const report of reports) {
              if (report.type === 'reorg') this.view.reorg(status.address, report)
              else if (report.type === 'sighting')
                this.view.observe(status.address, { ...report, reported: true })
            }
          } catch (error) {
            this.logger.debug(
              { node: p2p, api: source.api, err: (error as Error).message },
              'API read failed',
            )
          }
        }),
      )
      this.view.setEdges(edges.filter(([, b]) => b !== this.peers.address))
    } finally {
      this.polling = false
    }
  }

  private applyStatus(status: ApiStatus, edges: [string, string][]): void {
    // The network's own nodes: not us, not other observers.
    const peers = status.peers.filter((p) => p.address !== this.peers.address && !p.observer)
    this.view.updateNode(status.address, {
      height: status.height,
      head: status.head,
      producing: status.producing,
      peers: peers.length,
      pending: status.mempool,
      key: status.key,
      producer:
        status.permissioned && status.key ? (status.producers ?? []).includes(status.key) : null,
      provenPeers: peers.some((p) => p.proven !== undefined)
        ? peers.filter((p) => p.proven).length
        : null,
      name: this.names.get(status.address),
      source: 'api',
      up: true,
    })
    const producers = status.permissioned ? (status.producers ?? []) : null
    this.view.setNetwork({
      network: status.network,
      ...(status.permissioned !== undefined
        ? {
            producers,
            // The turn rule is the codec's; it reads only the producer list, not the clock.
            inTurn:
              status.inTurn ??
              (producers &&
                inTurnProducer(status.round, { producers, roundMs: 1, genesisTime: 0 })) ??
              null,
          }
        : {}),
    })
    for (const peer of peers) {
      edges.push([status.address, peer.address])
      // Discovery: nodes our nodes talk to are watched too, over P2P.
      this.peers.connect(peer.address)
    }
  }
}
