// Our nodes' API shapes: types only, erased at build (the bridge reads the API over HTTP).

import { type Logger, silentLogger } from '@chronos/codec'
import type { NodeStatus, Observation, ObservationKind } from '@chronos/node'
import { KnownSet, PeerManager } from '@chronos/peer'
import { type Transport, tcpTransport } from '@chronos/transport'
import type { Reach } from './protocol.js'
import type { NetworkView } from './view.js'

/** A node to watch: its P2P address, and its HTTP API when it is one of ours. */
export interface BridgeTarget {
  p2p: string
  api?: string
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

const KIND: Record<Exclude<ObservationKind, 'reorg'>, Reach['kind']> = {
  produced: 'produced',
  block: 'block',
  hash: 'hash',
  confirmed: 'block',
}

/**
 * Watches the network two ways. As a peer (an observer: no chain, any
 * genesis), it gets every node's Status beats (height, head, round trip)
 * and the blocks nodes gossip to it; that works with any conforming node.
 * From our own nodes' APIs it also reads peer lists (the topology, and
 * nodes to discover) and how each node first saw each block, and from whom.
 */
export class Observer {
  readonly peers: PeerManager
  private readonly view: NetworkView
  private readonly apis = new Map<string, { api: string; after: number }>()
  private readonly asked = new KnownSet(4096)
  private readonly pollMs: number
  private readonly logger: Logger
  private timer: NodeJS.Timeout | undefined
  private polling = false

  constructor(options: ObserverOptions) {
    this.view = options.view
    this.pollMs = options.pollMs ?? 1000
    this.logger = options.logger ?? silentLogger
    for (const target of options.targets)
      if (target.api) this.apis.set(target.p2p, { api: target.api, after: 0 })
    this.peers = new PeerManager({
      transport: options.transport ?? tcpTransport({ logger: this.logger }),
      listen: options.listen ?? '127.0.0.1:0',
      peers: options.targets.map((t) => t.p2p),
      chain: () => ({ height: 0 }),
      handlers: {
        pull: () => null,
        newBlock: (block, session) => {
          const node = session.peerAddress
          if (!node) return
          this.view.observe(node, {
            hash: block.block_header.hash,
            at: Date.now(),
            kind: 'seen',
            height: block.block_header.height,
            producer: block.block_header.producer,
            transactions: block.transactions.length,
          })
        },
        newBlockHash: (hash, session) => {
          const node = session.peerAddress
          if (node) this.view.observe(node, { hash, at: Date.now(), kind: 'seen' })
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
        up: true,
      }),
    )
    this.peers.on('disconnect', (peer) => {
      if (!peer.outbound) this.view.nodeDown(peer.address)
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
            const status = (await getJson(`http://${source.api}/status`)) as NodeStatus
            this.view.updateNode(status.address, {
              height: status.height,
              head: status.head,
              producing: status.producing,
              peers: status.peers.filter((p) => p.address !== this.peers.address).length,
              source: 'api',
              up: true,
            })
            for (const peer of status.peers) {
              edges.push([status.address, peer.address])
              // Discovery: nodes our nodes talk to are watched too, over P2P.
              if (peer.address !== this.peers.address) this.peers.connect(peer.address)
            }
            const seen = (await getJson(
              `http://${source.api}/observations?after=${source.after}`,
            )) as Observation[]
            for (const o of seen) {
              source.after = Math.max(source.after, o.seq)
              if (o.kind === 'reorg') {
                this.view.reorg(status.address, {
                  forkHeight: o.forkHeight ?? 0,
                  removed: o.removed ?? 0,
                  height: o.height ?? 0,
                  head: o.hash,
                })
                continue
              }
              this.view.observe(status.address, {
                hash: o.hash,
                at: o.at,
                kind: KIND[o.kind],
                via: o.from ?? null,
                height: o.height,
                producer: o.producer,
                transactions: o.transactions,
                reported: true,
                confirmed: o.kind === 'confirmed',
              })
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
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`)
  return response.json()
}
