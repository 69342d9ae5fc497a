import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { type ChainDatabase, type ChainStore, openChainStore } from '@chronos/chain-store'
import { type Block, readNetworkParams, roundOf, roundStart } from '@chronos/codec'
import { GossipEngine } from '@chronos/gossip'
import { PeerManager } from '@chronos/peer'
import { SyncEngine, type SyncProgress } from '@chronos/sync'
import { type Logger, type Transport, tcpTransport } from '@chronos/transport'
import { ConfigError, type NodeConfig, type NodeConfigInput, parseConfig } from './config.js'
import { claimDataDir, prepareDataDir } from './data-dir.js'
import { type Component, Lifecycle } from './lifecycle.js'
import { childLogger } from './logger.js'
import { Mempool } from './mempool.js'
import { createMetrics, type MetricsSample, type NodeMetrics } from './metrics.js'
import { ObservationLog } from './observations.js'
import { createProducer } from './producer.js'

export interface ChronosNodeOptions {
  /** A plain object is accepted: it is validated and its defaults filled in. */
  config: NodeConfigInput | NodeConfig
  /** The genesis block itself (`config.genesis`, a path, is the CLI's business). */
  genesis: Block
  /** Default: TCP with the configured limits. Tests pass the in-memory transport. */
  transport?: Transport
  /** Default: LevelDB in `<data>/chain`. */
  db?: ChainDatabase
  /** pino, or any logger with the packages' `Logger` methods (`child` is used when present). */
  logger: Logger
  now?: () => number
  /** Process and Node.js metrics on this node's registry (one node per process only). Default false. */
  processMetrics?: boolean
  /** Benchmarks only: override the spec's √m full-block fan-out (e.g. flooding). */
  fullBlockPeers?: (peersWithoutBlock: number) => number
}

export interface PeerView {
  address: string
  direction: 'inbound' | 'outbound' | 'both'
  height: number | undefined
  head: string | undefined
  knownSetSize: number
  /** Last SHAKEHAND round trip on our outbound connection, in ms; undefined before the first. */
  rttMs: number | undefined
}

export interface NodeStatus {
  address: string
  network: string
  genesis: string
  height: number
  head: string
  round: number
  syncing: boolean
  producing: boolean
  mempool: number
  peers: PeerView[]
}

export interface ChronosNodeEvents {
  progress: [progress: SyncProgress]
}

/** One Chronos node: store, peers, sync, gossip, mempool and production, composed. */
export class ChronosNode extends EventEmitter<ChronosNodeEvents> {
  readonly metrics: NodeMetrics
  readonly mempool: Mempool
  /** What this node saw of blocks, for observers. */
  readonly observations = new ObservationLog()
  readonly peers: PeerManager
  readonly sync: SyncEngine
  readonly gossip: GossipEngine
  private readonly lifecycle: Lifecycle
  private stopping: Promise<void> | undefined
  private producing: boolean

  private constructor(
    readonly config: NodeConfig,
    readonly store: ChainStore,
    readonly logger: Logger,
    transport: Transport,
    private readonly now: () => number,
    options: Pick<ChronosNodeOptions, 'fullBlockPeers' | 'processMetrics'> & {
      release: () => void
    },
  ) {
    super()
    this.metrics = createMetrics({
      sample: () => this.sample(),
      processMetrics: options.processMetrics,
      roundMs: store.params.roundMs,
    })
    this.producing = config.produce
    const { limits } = config
    this.mempool = new Mempool(limits.mempoolSize)
    const child = (component: string): Logger => childLogger(logger, { component })
    this.peers = new PeerManager({
      transport,
      listen: config.listen,
      advertise: config.advertise,
      peers: config.peers,
      chain: () => ({
        height: store.height(),
        head: store.head().block_header.hash,
        genesis: store.genesis.block_header.hash,
      }),
      limits: {
        maxOutbound: limits.maxOutbound,
        maxInbound: limits.maxInbound,
        knownSetSize: limits.knownSetSize,
        statusIntervalMs: limits.statusIntervalMs,
        handshakeTimeoutMs: limits.handshakeTimeoutMs,
        requestTimeoutMs: limits.requestTimeoutMs,
        banMs: limits.banMs,
        reconnectMaxMs: limits.reconnectMaxMs,
        reconnectMinMs: Math.min(500, limits.reconnectMaxMs),
      },
      logger: child('peers'),
    })
    this.sync = new SyncEngine({
      store: timedWrites(store, (seconds) => this.metrics.syncImport.observe(seconds)),
      peers: this.peers,
      window: limits.syncWindow,
      now,
      logger: child('sync'),
    })
    const produce = createProducer({
      name: () => this.address,
      mempool: this.mempool,
      maxTransactions: limits.maxBlockTransactions,
      txRate: config.txRate,
      roundMs: store.params.roundMs,
    })
    this.gossip = new GossipEngine({
      store,
      peers: this.peers,
      now,
      fetchTimeoutMs: limits.fetchTimeoutMs,
      maxFetches: limits.maxFetches,
      maxCandidates: limits.maxCandidates,
      maxFutureBlocks: limits.maxFutureBlocks,
      maxRememberedHashes: limits.maxRememberedHashes,
      onOrphan: (peer) => this.sync.hint(peer),
      produce: (context) => (this.producing && !this.behind() ? produce(context) : undefined),
      fullBlockPeers: options.fullBlockPeers,
      logger: child('gossip'),
    })
    // Built in dependency order, the manager learns how to answer once both exist.
    const sync = this.sync
    this.peers.handle({ pull: (height) => sync.serve(height), ...this.gossip.handlers })
    this.lifecycle = new Lifecycle(this.components(options.release))
    this.observe()
  }

  /**
   * Started in this order, stopped in reverse. Sync stops after the peers:
   * closing the connections is what ends its in-flight requests (stopped
   * first, it would wait for their timeouts); gossip stops first so that
   * nothing is produced or relayed while the node goes down.
   */
  private components(release: () => void): Component[] {
    const { store, sync, peers, gossip } = this
    return [
      {
        name: 'store',
        start: async () => {},
        stop: async () => {
          await store.close()
          release()
        },
      },
      {
        name: 'sync',
        start: async () => {},
        stop: async () => {
          sync.stop()
          await sync.idle().catch(() => {})
        },
      },
      { name: 'peers', start: () => peers.start(), stop: () => peers.stop() },
      { name: 'gossip', start: async () => gossip.start(), stop: async () => gossip.stop() },
    ]
  }

  /** Opens the store (creating it for this genesis, or resuming from its head). */
  static async open(options: ChronosNodeOptions): Promise<ChronosNode> {
    readNetworkParams(options.genesis)
    const config = parseConfig(options.config)
    const { genesis, db } = options
    let release = () => {}
    let store: ChainStore
    if (db) store = await openChainStore({ genesis, db })
    else {
      const { data } = config
      if (!data) throw new ConfigError('config', ['data: required unless a `db` is passed'])
      prepareDataDir(data)
      const claim = await claimDataDir(data, () =>
        openChainStore({ genesis, location: join(data, 'chain') }),
      )
      store = claim.value
      release = claim.release
    }
    const transport =
      options.transport ??
      tcpTransport({
        maxBodyBytes: config.limits.maxBodyBytes,
        maxInboundConnections: config.limits.maxInbound + 16,
        maxInboundPerHost: config.limits.maxInboundPerHost,
        idleTimeoutMs: config.limits.idleTimeoutMs,
        frameTimeoutMs: config.limits.frameTimeoutMs,
        logger: childLogger(options.logger, { component: 'transport' }),
      })
    return new ChronosNode(config, store, options.logger, transport, options.now ?? Date.now, {
      fullBlockPeers: options.fullBlockPeers,
      processMetrics: options.processMetrics,
      release,
    })
  }

  /** Where peers reach us (our Status address). */
  get address(): string {
    return this.config.advertise ?? this.peers?.address ?? this.config.listen
  }

  async start(): Promise<void> {
    await this.lifecycle.start()
    this.logger.info(
      {
        address: this.peers.address,
        height: this.store.height(),
        head: this.store.head().block_header.hash,
        network: this.store.params.network,
        producing: this.config.produce,
      },
      'node started',
    )
  }

  /** Stops production, closes every connection, then the store. Idempotent; safe before start(). */
  stop(): Promise<void> {
    this.stopping ??= this.lifecycle
      .stop()
      .then(() => this.logger.info({ height: this.store.height() }, 'node stopped'))
    return this.stopping
  }

  /** Whether this node packs candidates now (the config's `produce`, or `setProducing`). */
  get isProducing(): boolean {
    return this.producing
  }

  /** Turns production on or off (the config's `produce` is the initial state). */
  setProducing(on: boolean): void {
    this.producing = on
  }

  status(): NodeStatus {
    const head = this.store.head()
    return {
      address: this.peers.address,
      network: this.store.params.network,
      genesis: this.store.genesis.block_header.hash,
      height: head.block_header.height,
      head: head.block_header.hash,
      round: this.gossip.currentRound,
      syncing: this.sync.syncing,
      producing: this.producing,
      mempool: this.mempool.size,
      peers: this.peers.peers().map((peer) => ({
        address: peer.address,
        direction:
          peer.outbound && peer.inbound.size ? 'both' : peer.outbound ? 'outbound' : 'inbound',
        height: peer.status?.height,
        head: peer.status?.head,
        knownSetSize: peer.known.size,
        rttMs: peer.outbound?.rttMs,
      })),
    }
  }

  /** What the gauges report at scrape time: the same sources as `status()`. */
  private sample(): MetricsSample {
    const peers = { inbound: 0, outbound: 0, both: 0 }
    for (const peer of this.peers.peers()) {
      if (peer.outbound && peer.inbound.size) peers.both++
      else if (peer.outbound) peers.outbound++
      else if (peer.inbound.size) peers.inbound++
    }
    return { height: this.store.height(), round: this.gossip.currentRound, peers }
  }

  /** A ready peer reports a longer chain: our candidate would be on a stale head. */
  private behind(): boolean {
    const height = this.store.height()
    return this.peers.readyPeers().some((peer) => (peer.status?.height ?? 0) > height)
  }

  private observe(): void {
    const m = this.metrics
    this.store.onHead(({ head, forkHeight, removed }) => {
      if (removed.length) {
        m.reorgs.inc()
        this.observations.add('reorg', head.block_header.hash, head, {
          forkHeight,
          removed: removed.length,
        })
      }
      void this.addedSince(forkHeight, head).then((added) => {
        this.mempool.headChanged(added, removed)
        m.mempool.set(this.mempool.size)
      })
    })
    this.gossip.on('confirmed', (block, round) => {
      m.confirmed.inc()
      this.observations.add('confirmed', block.block_header.hash, block)
      this.logger.debug(
        {
          height: block.block_header.height,
          hash: block.block_header.hash,
          round,
          producer: block.block_header.producer,
        },
        'block confirmed',
      )
    })
    this.gossip.on('produced', (block) => {
      m.produced.inc()
      this.observations.add('produced', block.block_header.hash, block)
    })
    this.gossip.on('candidate', (block, info) => {
      m.candidates.inc({ selected: String(info.selected) })
      if (!info.from) return
      this.observations.add('block', block.block_header.hash, block, { from: info.from })
      const clock = this.store.params
      const started = roundStart(roundOf(block.block_header.timestamp, clock), clock)
      m.arrivalDelay.observe(Math.max(0, this.now() - started) / 1000)
    })
    this.gossip.on('announced', (hash, info) =>
      this.observations.add('hash', hash, undefined, { from: info.from }),
    )
    this.gossip.on('dropped', (_block, info) => m.dropped.inc({ reason: info.reason }))
    this.gossip.on('sent', (info) => m.sent.inc({ kind: info.kind }))
    this.sync.on('done', (result) => {
      m.synced.inc(result.applied)
      if (result.applied)
        this.logger.info(
          {
            peer: result.peer,
            applied: result.applied,
            height: result.height,
            reorg: result.reorged,
          },
          'synced',
        )
    })
    this.sync.on('progress', (progress) => this.emit('progress', progress))
    this.peers.on('disconnect', (_peer, info) => m.closes.inc({ reason: info.reason }))
    this.peers.on('penalty', (_address, reason) => m.penalties.inc({ reason }))
  }

  private async addedSince(forkHeight: number, head: Block): Promise<Block[]> {
    if (head.block_header.height === forkHeight + 1) return [head]
    const added: Block[] = []
    try {
      for await (const block of this.store.blocks(forkHeight + 1, head.block_header.height))
        added.push(block)
    } catch {
      // The store closed during shutdown: nothing left to update.
    }
    return added
  }
}

/**
 * The store as sync sees it, its writes timed for chronos_sync_import_seconds
 * (sync's writes are its imports; the store and sync stay unaware of metrics).
 */
function timedWrites(store: ChainStore, observe: (seconds: number) => void): ChainStore {
  const timed = new Set<PropertyKey>(['append', 'appendMany', 'reorg'])
  const bound = new Map<PropertyKey, unknown>()
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      let method = bound.get(property)
      if (method === undefined) {
        const original = value as (...args: unknown[]) => unknown
        method = timed.has(property)
          ? async (...args: unknown[]) => {
              const started = performance.now()
              try {
                return await original.apply(target, args)
              } finally {
                observe((performance.now() - started) / 1000)
              }
            }
          : original.bind(target)
        bound.set(property, method)
      }
      return method
    },
  })
}
