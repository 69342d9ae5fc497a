import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { type ChainDatabase, type ChainStore, openChainStore } from '@chronos/chain-store'
import {
  type Block,
  generateNodeKey,
  inTurnProducer,
  isInTurn,
  type Logger,
  type NodeKey,
  readNetworkParams,
  roundOf,
  roundStart,
  sealBlock,
} from '@chronos/codec'
import { GossipEngine } from '@chronos/gossip'
import {
  AddressBook,
  type BlockCheckCache,
  ImpossibleHeightError,
  PeerManager,
} from '@chronos/peer'
import { SyncEngine, type SyncProgress } from '@chronos/sync'
import { type Transport, type TransportOptions, tcpTransport } from '@chronos/transport'
import { NodeApi } from './api.js'
import { SLOW_CLOCK_WARNING, SlowClockCheck } from './clock-check.js'
import {
  ConfigError,
  type NodeConfig,
  type NodeConfigInput,
  type NodeLimits,
  parseConfig,
} from './config.js'
import { claimDataDir, prepareDataDir } from './data-dir.js'
import { Lifecycle, type Part } from './lifecycle.js'
import { childLogger } from './logger.js'
import { Mempool } from './mempool.js'
import { createMetrics, type MetricsSample, type NodeMetrics } from './metrics.js'
import { loadOrCreateKeyFile, NODE_KEY_FILE, readKeyFile } from './node-key.js'
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
  /** The node key. Default: `<data>/node-key.json` (created on first start) unless `config.identity` is false. */
  identity?: NodeKey
  /** The key produced blocks are sealed with. Default: `config.producerKey`'s file, else the node key. */
  producerKey?: NodeKey
  /** Simulations only: block checks shared across nodes (see PeerManagerOptions.blockChecks). */
  blockChecks?: BlockCheckCache
}

/** `--produce` in a permissioned network with a key the genesis does not list. */
export class NotAuthorizedProducerError extends Error {
  readonly code = 'NOT_AUTHORIZED_PRODUCER'
  constructor(readonly key: string | undefined) {
    super(
      key
        ? `this network is permissioned and key ${key} is not one of its producers (chronos-node genesis --producer)`
        : 'this network is permissioned: producing needs a listed key (node identity or --producer-key)',
    )
  }
}

export interface PeerView {
  /** Its identity: the proven key, else its Status address. */
  id: string
  address: string
  /** The key it proved (section 11), if any. */
  key: string | undefined
  proven: boolean
  /** An observer (the bridge): kept out of gossip fan-out and peer counts. */
  observer: boolean
  direction: 'inbound' | 'outbound' | 'both'
  height: number | undefined
  head: string | undefined
  knownSetSize: number
  /** Last SHAKEHAND round trip on our outbound connection, in ms; undefined before the first. */
  rttMs: number | undefined
}

export interface NodeStatus {
  address: string
  /** Our node key, if we prove one. */
  key: string | undefined
  network: string
  genesis: string
  /** A permissioned network lists its producers; `inTurn` is the current round's. */
  permissioned: boolean
  producers: string[]
  inTurn: string | undefined
  height: number
  head: string
  round: number
  syncing: boolean
  producing: boolean
  mempool: number
  /** Addresses in the peer-exchange address book. */
  addressBook: number
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
  /** Whether many peers' heads are "in the future" by our clock: then it is our clock (clock-check.ts). */
  readonly clockCheck: SlowClockCheck
  /** The HTTP API, when `config.api` asks for one. */
  private readonly api: NodeApi | undefined
  /** The composed parts, started in order and stopped in reverse. */
  private readonly components: Lifecycle
  /** Our node key, when we prove one. */
  readonly identity: NodeKey | undefined
  /** Addresses learned by peer exchange (undefined when it is off). */
  readonly addressBook: AddressBook | undefined
  private stopping: Promise<void> | undefined
  private producing: boolean

  private constructor(
    readonly config: NodeConfig,
    readonly store: ChainStore,
    readonly logger: Logger,
    transport: Transport,
    private readonly now: () => number,
    options: Pick<
      ChronosNodeOptions,
      'fullBlockPeers' | 'processMetrics' | 'identity' | 'producerKey' | 'blockChecks'
    > & {
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
    this.identity = options.identity
    const params = store.params
    const producerKey = options.producerKey ?? options.identity
    const { limits } = config
    this.mempool = new Mempool({
      maxTransactions: limits.mempoolSize,
      maxBytes: limits.mempoolBytes,
      // A transaction that could not fit in any block would wait forever (1 KiB: header and envelope).
      maxTransactionBytes: limits.maxBodyBytes - 1024,
    })
    const child = (component: string): Logger => childLogger(logger, { component })
    const book = config.peerExchange
      ? new AddressBook(
          { maxEntries: limits.addressBookSize },
          store.sublevel('peers'),
          Date.now,
          (event, count) => this.metrics.addressBook.inc({ event }, count),
        )
      : undefined
    this.addressBook = book
    const peers = new PeerManager({
      transport,
      addressBook: book,
      listen: config.listen,
      advertise: config.advertise,
      peers: config.peers,
      network: params,
      identity: options.identity,
      requireIdentity: config.requireIdentity,
      now,
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
        maxBodyBytes: limits.maxBodyBytes,
        targetOutbound: limits.targetOutbound,
        meritWindowMs: limits.meritWindowMs,
        evictionGraceMs: limits.evictionGraceMs,
        maxOutboundPerHost: limits.maxOutboundPerHost,
        peerExchangeIntervalMs: limits.peerExchangeIntervalMs,
      },
      logger: child('peers'),
      blockChecks: options.blockChecks,
    })
    const sync = new SyncEngine({
      store: timedWrites(store, (seconds) => this.metrics.syncImport.observe(seconds)),
      peers,
      window: limits.syncWindow,
      now,
      logger: child('sync'),
    })
    const permissioned = params.producers !== undefined
    const pack = createProducer({
      // In a permissioned network a block names its producer by key (section 12).
      name: () => (permissioned ? producerKey!.publicKey : (config.advertise ?? peers.address)),
      mempool: this.mempool,
      maxTransactions: limits.maxBlockTransactions,
      maxBodyBytes: limits.maxBodyBytes,
      txRate: config.txRate,
      roundMs: store.params.roundMs,
    })
    const outOfTurnDelayMs = config.outOfTurnDelayMs ?? Math.floor(params.roundMs / 3)
    const produce = async (context: Parameters<typeof pack>[0]) => {
      const block = pack(context)
      if (!permissioned) return block
      // The in-turn block will beat ours: let it go first (section 12).
      if (!isInTurn(block.block_header, params) && outOfTurnDelayMs > 0)
        await new Promise((resolve) => setTimeout(resolve, outOfTurnDelayMs))
      return sealBlock(block, producerKey!, params.genesisHash)
    }
    const gossip = new GossipEngine({
      store,
      peers,
      now,
      fetchTimeoutMs: limits.fetchTimeoutMs,
      maxFetches: limits.maxFetches,
      maxCandidates: limits.maxCandidates,
      maxFutureBlocks: limits.maxFutureBlocks,
      maxRememberedHashes: limits.maxRememberedHashes,
      maxRelaysPerRound: limits.maxRelaysPerRound,
      maxAnnounceHoldMs: limits.maxAnnounceHoldMs,
      maxAnnouncesPerPeer: limits.maxAnnouncesPerPeer,
      maxAnnouncesPerRound: limits.maxAnnouncesPerRound,
      maxOrphanCandidates: limits.maxOrphanCandidates,
      maxRefusedHashes: limits.maxRefusedHashes,
      onOrphan: (peer) => sync.hint(peer),
      // Production waits only on a claim sync has not refuted (issue 10 item 6): never on a lie.
      produce: (context) => (this.producing && !sync.behind() ? produce(context) : undefined),
      fullBlockPeers: options.fullBlockPeers,
      logger: child('gossip'),
    })
    // Built in dependency order, the manager learns how to answer once both exist.
    peers.handle({ pull: (height) => sync.serve(height), ...gossip.handlers })
    this.peers = peers
    this.sync = sync
    this.gossip = gossip
    this.clockCheck = new SlowClockCheck(params.roundMs, now, {
      minPeers: limits.slowClockPeers,
      windowMs: limits.slowClockWindowMs,
      warnIntervalMs: limits.slowClockWarnIntervalMs,
      maxPeers: limits.slowClockMaxPeers,
    })
    this.api = config.api === undefined ? undefined : new NodeApi(this, config.api)
    /*
     * Started in this order, stopped in reverse. The API binds before any
     * peer connection (a port in use stops the node before it joins the
     * network) and closes before the store. Sync stops after the peers:
     * closing the connections is what ends its in-flight requests (stopped
     * first, it would wait for their timeouts). Gossip stops first, so that
     * nothing is produced or relayed while the node goes down.
     */
    const release = options.release
    const parts: (Part | false)[] = [
      ['data dir', { start: async () => {}, stop: async () => release() }],
      ['store', store],
      this.api !== undefined && ['api', this.api],
      ['sync', sync],
      // The address book loads first: dialing from it starts with the peers.
      book !== undefined && ['address book', book],
      ['peers', peers],
      ['gossip', gossip],
    ]
    this.components = new Lifecycle(parts.filter((part) => part !== false))
    this.observe()
  }

  /** Opens the store (creating it for this genesis, or resuming from its head). */
  static async open(options: ChronosNodeOptions): Promise<ChronosNode> {
    const params = readNetworkParams(options.genesis)
    const config = parseConfig(options.config)
    const { genesis, db } = options
    const data = db ? undefined : config.data
    if (!db && !data) throw new ConfigError('config', ['data: required unless a `db` is passed'])
    if (data) prepareDataDir(data)
    // A node on a database it was handed (tests, embedders) has no data directory: its key is ephemeral.
    const identity =
      options.identity ??
      (!config.identity
        ? undefined
        : data
          ? loadOrCreateKeyFile(join(data, NODE_KEY_FILE))
          : generateNodeKey())
    const producerKey =
      options.producerKey ?? (config.producerKey ? readKeyFile(config.producerKey) : identity)
    if (
      config.produce &&
      params.producers &&
      !params.producers.includes(producerKey?.publicKey ?? '')
    )
      throw new NotAuthorizedProducerError(producerKey?.publicKey)
    let release = () => {}
    let store: ChainStore
    if (db) store = await openChainStore({ genesis, db })
    else {
      const location = data!
      const claim = await claimDataDir(location, () =>
        openChainStore({ genesis, location: join(location, 'chain') }),
      )
      store = claim.value
      release = claim.release
    }
    const transport =
      options.transport ??
      tcpTransport({
        ...transportOptions(config.limits),
        logger: childLogger(options.logger, { component: 'transport' }),
      })
    const now =
      options.now ?? (config.clockOffsetMs ? () => Date.now() + config.clockOffsetMs : Date.now)
    return new ChronosNode(config, store, options.logger, transport, now, {
      fullBlockPeers: options.fullBlockPeers,
      processMetrics: options.processMetrics,
      identity,
      producerKey,
      blockChecks: options.blockChecks,
      release,
    })
  }

  /** Where the HTTP API listens (`host:port`), once started; undefined without `config.api`. */
  get apiAddress(): string | undefined {
    return this.api?.address
  }

  /** Where peers reach us (our Status address). */
  get address(): string {
    return this.config.advertise ?? this.peers?.address ?? this.config.listen
  }

  /**
   * Starts every part in order (see the constructor). If one fails, those
   * already started stop and a `StartFailedError` names the part.
   */
  async start(): Promise<void> {
    await this.components.start()
    this.logger.info(
      {
        address: this.peers.address,
        height: this.store.height(),
        head: this.store.head().block_header.hash,
        network: this.store.params.network,
        producing: this.config.produce,
        key: this.identity?.publicKey,
        permissioned: this.store.params.producers !== undefined,
      },
      'node started',
    )
  }

  /** Where the node is in its life, for health checks: serving only while `running`. */
  get lifecycle(): 'created' | 'running' | 'stopping' {
    const phase = this.components.phase
    return phase === 'stopping' ? 'stopping' : phase === 'running' ? 'running' : 'created'
  }

  /** Stops production, closes every connection, then the store. Idempotent; safe before start(). */
  stop(): Promise<void> {
    this.stopping ??= this.components
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
    const params = this.store.params
    return {
      address: this.peers.address,
      key: this.identity?.publicKey,
      network: params.network,
      genesis: this.store.genesis.block_header.hash,
      permissioned: params.producers !== undefined,
      producers: [...(params.producers ?? [])],
      inTurn: inTurnProducer(this.gossip.currentRound, params),
      height: head.block_header.height,
      head: head.block_header.hash,
      round: this.gossip.currentRound,
      syncing: this.sync.syncing,
      producing: this.producing,
      mempool: this.mempool.size,
      addressBook: this.addressBook?.size ?? 0,
      peers: this.peers.peers().map((peer) => ({
        id: peer.id,
        address: peer.address,
        key: peer.key,
        proven: peer.proven,
        observer: peer.observer,
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
    let observers = 0
    for (const peer of this.peers.peers()) {
      if (peer.observer) observers++
      else if (peer.outbound && peer.inbound.size) peers.both++
      else if (peer.outbound) peers.outbound++
      else if (peer.inbound.size) peers.inbound++
    }
    return {
      height: this.store.height(),
      round: this.gossip.currentRound,
      peers,
      observers,
      clockOffsetMs: this.clockCheck.current()?.impliedOffsetMs ?? 0,
    }
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
    // How far into its round a block from elsewhere arrived, taken or not (an orphan arrived
    // too). Our own candidate passes through as one (without a sender): no arrival.
    let ownCandidate: string | undefined
    this.gossip.on('produced', (block) => {
      ownCandidate = block.block_header.hash
    })
    const arrived = (block: Block) => {
      if (block.block_header.hash === ownCandidate) return
      const clock = this.store.params
      const started = roundStart(roundOf(block.block_header.timestamp, clock), clock)
      m.arrivalDelay.observe(Math.max(0, this.now() - started) / 1000)
    }
    this.gossip.on('candidate', (block, info) => {
      m.candidates.inc({ selected: String(info.selected) })
      if (info.from)
        this.observations.add('block', block.block_header.hash, block, { from: info.from })
      arrived(block)
    })
    this.gossip.on('dropped', (block, info) => {
      // Not yet in its round (held, or no room to hold): it is counted when its round comes.
      if (info.reason !== 'UNTIMELY' && info.reason !== 'FUTURE_FULL') arrived(block)
    })
    this.gossip.on('announced', (hash, info) =>
      this.observations.add('hash', hash, undefined, { from: info.from }),
    )
    this.gossip.on('dropped', (_block, info) => m.dropped.inc({ reason: info.reason }))
    this.gossip.on('sent', (info) => m.sent.inc({ kind: info.kind }))
    this.sync.on('done', (result) => {
      // Blocks sync applied from a peer count as its deliveries too (eviction by merit).
      if (result.applied)
        this.peers
          .peers()
          .find((p) => p.address === result.peer)
          ?.credit()
    })
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
    this.sync.on('failed', (failure) =>
      m.syncFailures.inc({ outcome: failure.retryAtMs === undefined ? 'disproved' : 'retried' }),
    )
    this.sync.on('progress', (progress) => this.emit('progress', progress))
    this.peers.on('disconnect', (_peer, info) => m.closes.inc({ reason: info.reason }))
    this.peers.on('penalty', (_address, reason) => m.penalties.inc({ reason }))
    this.peers.on('closed', ({ info }) => {
      const error = info.error
      if (info.initiator !== 'local' || !(error instanceof ImpossibleHeightError)) return
      m.impossibleHeights.inc()
      const verdict = this.clockCheck.refused(error.address, error.height, error.limit)
      if (verdict.kind !== 'warn') return
      const { slow } = verdict
      // As geth's "System clock seems off": the rule (section 4) stays, the operator is told.
      this.logger.warn(
        {
          reason: 'IMPOSSIBLE_HEIGHT',
          peers: slow.peers,
          roundsAhead: slow.roundsAhead,
          impliedClockOffsetMs: slow.impliedOffsetMs,
          windowMs: this.config.limits.slowClockWindowMs,
          hint: `${slow.peers} peers' heads are ${slow.roundsAhead}+ rounds ahead of our clock, so every such peer is refused (PROTOCOL.md section 4): our clock is at least ${Math.abs(slow.impliedOffsetMs) / 1000} s slow; enable network time synchronisation (NTP)`,
        },
        SLOW_CLOCK_WARNING,
      )
    })
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

/** The transport limits of a node's config (the default TCP transport's, and the tests'). */
export function transportOptions(limits: NodeLimits): TransportOptions {
  return {
    maxBodyBytes: limits.maxBodyBytes,
    maxInboundConnections: limits.maxInbound + 16,
    maxInboundPerHost: limits.maxInboundPerHost,
    idleTimeoutMs: limits.idleTimeoutMs,
    frameTimeoutMs: limits.frameTimeoutMs,
    maxBufferedBytes: limits.maxBufferedBytes,
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
