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
  sealBlock,
} from '@chronos/codec'
import { GossipEngine } from '@chronos/gossip'
import { AddressBook, PeerManager } from '@chronos/peer'
import { SyncEngine, type SyncProgress } from '@chronos/sync'
import { type Transport, tcpTransport } from '@chronos/transport'
import type { Logger as PinoLogger } from 'pino'
import type { NodeConfig } from './config.js'
import { Mempool } from './mempool.js'
import { createMetrics, type NodeMetrics } from './metrics.js'
import { loadOrCreateKeyFile, NODE_KEY_FILE, readKeyFile } from './node-key.js'
import { ObservationLog } from './observations.js'
import { createProducer } from './producer.js'

export interface ChronosNodeOptions {
  config: NodeConfig
  genesis: Block
  /** Default: TCP with the configured limits. Tests pass the in-memory transport. */
  transport?: Transport
  /** Default: LevelDB in `<data>/chain`. */
  db?: ChainDatabase
  logger: PinoLogger
  now?: () => number
  /** Benchmarks only: override the spec's √m full-block fan-out (e.g. flooding). */
  fullBlockPeers?: (peersWithoutBlock: number) => number
  /** The node key. Default: `<data>/node-key.json` (created on first start) unless `config.identity` is false. */
  identity?: NodeKey
  /** The key produced blocks are sealed with. Default: `config.producerKey`'s file, else the node key. */
  producerKey?: NodeKey
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
  readonly metrics: NodeMetrics = createMetrics()
  readonly mempool: Mempool
  /** What this node saw of blocks, for observers. */
  readonly observations = new ObservationLog()
  readonly peers: PeerManager
  readonly sync: SyncEngine
  readonly gossip: GossipEngine
  /** Our node key, when we prove one. */
  readonly identity: NodeKey | undefined
  /** Addresses learned by peer exchange (undefined when it is off). */
  readonly addressBook: AddressBook | undefined
  private stopping: Promise<void> | undefined
  private started = false
  private producing: boolean

  private constructor(
    readonly config: NodeConfig,
    readonly store: ChainStore,
    readonly logger: PinoLogger,
    transport: Transport,
    now: () => number,
    options: Pick<ChronosNodeOptions, 'fullBlockPeers' | 'identity' | 'producerKey'>,
  ) {
    super()
    this.producing = config.produce
    this.identity = options.identity
    const params = store.params
    const producerKey = options.producerKey ?? options.identity
    const { limits } = config
    this.mempool = new Mempool(limits.mempoolSize)
    const child = (component: string): Logger => logger.child({ component })
    const book = config.peerExchange
      ? new AddressBook(
          { maxEntries: limits.addressBookSize },
          store.sublevel('peers'),
          Date.now,
          (event, count) => this.metrics.addressBook.inc({ event }, count),
        )
      : undefined
    this.addressBook = book
    this.peers = new PeerManager({
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
      handlers: {
        pull: (height) => this.sync.serve(height),
        newBlock: (block, session) => this.gossip.handlers.newBlock(block, session),
        newBlockHash: (hash, session) => this.gossip.handlers.newBlockHash(hash, session),
      },
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
        peerExchangeIntervalMs: limits.peerExchangeIntervalMs,
      },
      logger: child('peers'),
    })
    this.sync = new SyncEngine({
      store,
      peers: this.peers,
      window: limits.syncWindow,
      now,
      logger: child('sync'),
    })
    const permissioned = params.producers !== undefined
    const pack = createProducer({
      // In a permissioned network a block names its producer by key (section 12).
      name: () => (permissioned ? producerKey!.publicKey : this.address),
      mempool: this.mempool,
      maxTransactions: limits.maxBlockTransactions,
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
    this.observe()
  }

  /** Opens the store (creating it for this genesis, or resuming from its head). */
  static async open(options: ChronosNodeOptions): Promise<ChronosNode> {
    const params = readNetworkParams(options.genesis)
    const { config } = options
    // A node on a database it was handed (tests, embedders) has no data directory: its key is ephemeral.
    const identity =
      options.identity ??
      (!config.identity
        ? undefined
        : options.db
          ? generateNodeKey()
          : loadOrCreateKeyFile(join(config.data, NODE_KEY_FILE)))
    const producerKey =
      options.producerKey ?? (config.producerKey ? readKeyFile(config.producerKey) : identity)
    if (
      config.produce &&
      params.producers &&
      !params.producers.includes(producerKey?.publicKey ?? '')
    )
      throw new NotAuthorizedProducerError(producerKey?.publicKey)
    const store = await openChainStore({
      genesis: options.genesis,
      ...(options.db ? { db: options.db } : { location: join(config.data, 'chain') }),
    })
    const transport =
      options.transport ??
      tcpTransport({
        maxBodyBytes: config.limits.maxBodyBytes,
        maxInboundConnections: config.limits.maxInbound + 16,
        maxInboundPerHost: config.limits.maxInboundPerHost,
        idleTimeoutMs: config.limits.idleTimeoutMs,
        frameTimeoutMs: config.limits.frameTimeoutMs,
        logger: options.logger.child({ component: 'transport' }),
      })
    return new ChronosNode(config, store, options.logger, transport, options.now ?? Date.now, {
      ...options,
      identity,
      producerKey,
    })
  }

  /** Where peers reach us (our Status address). */
  get address(): string {
    return this.config.advertise ?? this.peers?.address ?? this.config.listen
  }

  async start(): Promise<void> {
    await this.addressBook?.load()
    await this.peers.start()
    this.gossip.start()
    this.started = true
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
    if (this.stopping) return 'stopping'
    return this.started ? 'running' : 'created'
  }

  /** Stops production, closes every connection, then the store. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.gossip.stop()
      this.sync.stop()
      await this.peers.stop()
      await this.sync.idle().catch(() => {})
      await this.store.close()
      this.logger.info({ height: this.store.height() }, 'node stopped')
    })()
    return this.stopping
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

  /** A ready peer reports a longer chain: our candidate would be on a stale head. */
  /**
   * A peer's possible, not yet refuted claim of a longer chain: our
   * candidate would be on a stale head. Sync decides (a lie never stops production).
   */
  private behind(): boolean {
    return this.sync.behind()
  }

  private observe(): void {
    const m = this.metrics
    m.height.set(this.store.height())
    this.store.onHead(({ head, forkHeight, removed }) => {
      m.height.set(head.block_header.height)
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
      m.round.set(round)
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
      if (info.from)
        this.observations.add('block', block.block_header.hash, block, { from: info.from })
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
    const countPeers = () => {
      let inbound = 0
      let outbound = 0
      for (const peer of this.peers.peers()) {
        inbound += peer.inbound.size
        if (peer.outbound) outbound++
      }
      m.peers.set({ direction: 'inbound' }, inbound)
      m.peers.set({ direction: 'outbound' }, outbound)
    }
    this.peers.on('ready', countPeers)
    this.peers.on('disconnect', countPeers)
    this.peers.on('status', countPeers)
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
