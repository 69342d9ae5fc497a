import { EventEmitter } from 'node:events'
import type { ChainStore } from '@chronos/chain-store'
import {
  type Block,
  checkValidOnParent,
  compareBlocks,
  fanout,
  isTimely,
  type Logger,
  roundEnd,
  roundOf,
  roundStart,
  silentLogger,
} from '@chronos/codec'
import {
  type AnnounceAnswer,
  KnownSet,
  type Peer,
  type PeerManager,
  type ServerHandlers,
  type ServerSession,
} from '@chronos/peer'
import { FetchTracker } from './fetch-tracker.js'

/** What a producer gets at a round start. */
export interface ProductionContext {
  round: number
  /** Our confirmed head: the candidate's parent. */
  parent: Block
  /** A timestamp inside the round, after the parent's. */
  timestamp: number
}

export type Producer = (
  context: ProductionContext,
) => Promise<Block | undefined> | Block | undefined

/** Why a received block was not taken as a candidate. None of these is a protocol error. */
export type DropReason =
  | 'LATE'
  | 'UNTIMELY'
  | 'NOT_ON_HEAD'
  | 'ORPHAN'
  | 'INVALID_ON_PARENT'
  | 'FUTURE_FULL'

export interface GossipOptions {
  store: ChainStore
  peers: PeerManager
  /** Called at each round start; the block it returns is our candidate. */
  produce?: Producer
  /** A block whose parent we lack came from `peer`: its chain may be better (wire to sync). */
  onOrphan?: (peer: string, block: Block) => void
  /** How long the first announcer of a hash has to deliver it before the next is asked. Default 1 s. */
  fetchTimeoutMs?: number
  /** Hashes tracked as being fetched. Default 1024. */
  maxFetches?: number
  /**
   * Candidate hashes remembered, to answer BLOCK_KNOWN. Default 1024: four
   * rounds even at the candidate cap, and an announcement older than that
   * is of a late block anyway.
   */
  maxRememberedHashes?: number
  /** Candidates of the current round kept (to serve GET_BLOCK). Default 256. */
  maxCandidates?: number
  /** Blocks of a later round held until it starts. Default 64. */
  maxFutureBlocks?: number
  now?: () => number
  /**
   * How many of the m peers lacking a block get it whole. Default: the
   * spec's max(1, floor(sqrt(m))). Benchmarks pass `(m) => m` to measure a
   * flooding baseline; a conforming node keeps the default.
   */
  fullBlockPeers?: (peersWithoutBlock: number) => number
  /** Source of randomness for choosing full-block recipients. */
  random?: () => number
  logger?: Logger
}

export interface GossipEvents {
  /** A valid candidate of the current round; `selected` when it became the round's pick. */
  candidate: [block: Block, info: { from: string | undefined; selected: boolean }]
  dropped: [block: Block, info: { from: string | undefined; reason: DropReason }]
  /** Our own candidate, produced at the start of `round`. */
  produced: [block: Block, round: number]
  /** The round's selected candidate was written to the store. */
  confirmed: [block: Block, round: number]
  /** A round ended with nothing confirmed. */
  empty: [round: number]
  /** A peer announced a hash we did not have (NEW_BLOCK_HASH). */
  announced: [hash: string, info: { from: string | undefined }]
  /** Sent a block or hash to a peer. */
  sent: [info: { to: string; hash: string; kind: 'block' | 'hash' }]
}

/**
 * Rounds, selection, confirmation and broadcast (PROTOCOL.md sections 7
 * and 9). Per round it keeps the highest-priority valid candidate on our
 * head, relays only that one (whole to √m peers, as a hash to the rest,
 * never to a peer known to have it), and confirms it when the round ends.
 */
export class GossipEngine extends EventEmitter<GossipEvents> {
  readonly handlers: Omit<ServerHandlers, 'pull'>
  private readonly store: ChainStore
  private readonly peers: PeerManager
  private readonly now: () => number
  private readonly random: () => number
  private readonly logger: Logger
  private readonly fetches: FetchTracker
  private readonly remembered: KnownSet
  private readonly maxCandidates: number
  private readonly maxFutureBlocks: number
  private readonly fullBlockPeers: (peersWithoutBlock: number) => number
  private candidates = new Map<string, Block>()
  private future: { block: Block; from: string | undefined }[] = []
  private selected: Block | undefined
  private round = Number.NEGATIVE_INFINITY
  private timer: NodeJS.Timeout | undefined
  private stopped = true

  constructor(private readonly options: GossipOptions) {
    super()
    this.store = options.store
    this.peers = options.peers
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    this.logger = options.logger ?? silentLogger
    this.fetches = new FetchTracker(options.fetchTimeoutMs ?? 1000, options.maxFetches ?? 1024)
    this.remembered = new KnownSet(options.maxRememberedHashes ?? 1024)
    this.maxCandidates = options.maxCandidates ?? 256
    this.maxFutureBlocks = options.maxFutureBlocks ?? 64
    this.fullBlockPeers = options.fullBlockPeers ?? ((m) => fanout(m).fullBlock)
    this.handlers = {
      newBlock: (block, session) => {
        this.receive(block, this.peerOf(session)).catch((error: Error) =>
          this.logger.error({ err: error.message }, 'handling NEW_BLOCK failed'),
        )
      },
      newBlockHash: (hash, session) => this.announced(hash, this.peerOf(session)),
    }
    this.peers.on('disconnect', (peer) => {
      if (!peer.connected) this.fetches.forget(peer.address)
    })
  }

  get currentRound(): number {
    return this.round
  }

  /** Hashes being fetched from an announcer (bounded by `maxFetches`). */
  get pendingFetches(): number {
    return this.fetches.size
  }

  /** The candidate selected so far in the current round. */
  get selectedCandidate(): Block | undefined {
    return this.selected
  }

  /** Starts the round clock: from now on rounds end, confirm and (if producing) produce. */
  start(): void {
    this.stopped = false
    this.round = roundOf(this.now(), this.store.params)
    this.armTimer()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.fetches.stop()
  }

  /** Takes a block as a candidate, from a peer or (from undefined) from us; relays it if selected. */
  async receive(block: Block, from: Peer | undefined): Promise<void> {
    const hash = block.block_header.hash
    from?.known.add(hash)
    if (this.candidates.has(hash) || this.remembered.has(hash)) return
    this.fetches.arrived(hash)
    const source = from?.address
    if (!isTimely(block, this.now())) return this.drop(block, source, 'UNTIMELY')
    const round = roundOf(block.block_header.timestamp, this.store.params)
    if (round < this.round) return this.drop(block, source, 'LATE')
    if (round > this.round) {
      if (this.future.length >= this.maxFutureBlocks) return this.drop(block, source, 'FUTURE_FULL')
      this.future.push({ block, from: source })
      return
    }
    const head = this.store.head()
    if (block.block_header.prev_hash !== head.block_header.hash) {
      if (
        block.block_header.height > head.block_header.height &&
        !(await this.store.has(block.block_header.prev_hash))
      ) {
        if (source) this.options.onOrphan?.(source, block)
        return this.drop(block, source, 'ORPHAN')
      }
      return this.drop(block, source, 'NOT_ON_HEAD')
    }
    const check = checkValidOnParent(block, head, this.store.params)
    if (!check.ok) return this.drop(block, source, 'INVALID_ON_PARENT')
    this.remembered.add(hash)
    if (this.candidates.size < this.maxCandidates) this.candidates.set(hash, block)
    const wins =
      !this.selected ||
      compareBlocks(block.block_header, this.selected.block_header, this.store.params) < 0
    if (wins) this.selected = block
    this.emit('candidate', block, { from: source, selected: wins })
    if (wins) this.broadcast(block)
  }

  /** NEW_BLOCK_HASH from a peer: BLOCK_KNOWN if we have the block, else GET_BLOCK (once per hash). */
  private async announced(hash: string, from: Peer | undefined): Promise<AnnounceAnswer> {
    from?.known.add(hash)
    if (this.candidates.has(hash) || this.remembered.has(hash)) return 'known'
    if (await this.store.has(hash)) return 'known'
    this.emit('announced', hash, { from: from?.address })
    if (!from) return 'wanted'
    return this.fetches.announce(hash, from.address)
  }

  /** NEW_BLOCK to √m of the peers that lack it, NEW_BLOCK_HASH to the others. */
  private broadcast(block: Block): void {
    const hash = block.block_header.hash
    const targets = this.peers.readyPeers().filter((peer) => !peer.known.has(hash))
    const fullBlock = this.fullBlockPeers(targets.length)
    // Partial Fisher-Yates: the first `fullBlock` entries become a uniform random choice.
    for (let i = 0; i < fullBlock; i++) {
      const j = i + Math.floor(this.random() * (targets.length - i))
      ;[targets[i], targets[j]] = [targets[j]!, targets[i]!]
    }
    targets.forEach((peer, i) => {
      peer.known.add(hash)
      const session = peer.outbound!
      if (i < fullBlock) {
        session.sendBlock(block)
        this.emit('sent', { to: peer.address, hash, kind: 'block' })
        return
      }
      this.emit('sent', { to: peer.address, hash, kind: 'hash' })
      session.announce(hash).then(
        (answer) => {
          if (answer !== 'wanted' || !session.open) return
          session.sendBlock(block)
          this.emit('sent', { to: peer.address, hash, kind: 'block' })
        },
        () => {},
      )
    })
  }

  private drop(block: Block, from: string | undefined, reason: DropReason): void {
    this.logger.debug(
      { peer: from, height: block.block_header.height, hash: block.block_header.hash, reason },
      'block dropped',
    )
    this.emit('dropped', block, { from, reason })
  }

  private peerOf(session: ServerSession): Peer | undefined {
    // Peers are keyed by identity (the proven key, else the address), not by address.
    const id = session.peerId
    return id === undefined ? undefined : this.peers.get(id)
  }

  private armTimer(): void {
    if (this.stopped) return
    const delay = Math.max(0, roundEnd(this.round, this.store.params) - this.now())
    this.timer = setTimeout(() => void this.tick(), delay)
  }

  /** Round end: confirm its pick, move to the round the clock is in, produce there. */
  private async tick(): Promise<void> {
    const ended = this.round
    const pick = this.selected
    this.selected = undefined
    this.candidates = new Map()
    this.round = Math.max(ended + 1, roundOf(this.now(), this.store.params))
    await this.confirm(ended, pick)
    if (this.stopped) return
    this.armTimer()
    const held = this.future
    this.future = []
    await this.produce()
    for (const { block, from } of held) {
      await this.receive(block, from === undefined ? undefined : this.peers.get(from))
    }
  }

  private async confirm(round: number, pick: Block | undefined): Promise<void> {
    if (!pick) {
      this.emit('empty', round)
      return
    }
    if (pick.block_header.prev_hash !== this.store.head().block_header.hash) {
      // Sync moved our head during the round; the pick no longer extends it.
      this.emit('empty', round)
      return
    }
    try {
      await this.store.append(pick)
      this.emit('confirmed', pick, round)
      // Our new head is news only to a peer that may not hold the block: one we sent it
      // (or its hash) to, or that sent it to us, confirms the same block itself; the
      // periodic beat still reaches everyone within the status interval.
      const hash = pick.block_header.hash
      this.peers.beatAll((peer) => !peer.known.has(hash))
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, round }, 'confirmation failed')
      this.emit('empty', round)
    }
  }

  private async produce(): Promise<void> {
    const produce = this.options.produce
    if (!produce) return
    const round = this.round
    const parent = this.store.head()
    const start = roundStart(round, this.store.params)
    const timestamp = Math.max(this.now(), start, parent.block_header.timestamp + 1)
    if (roundOf(timestamp, this.store.params) !== round) return
    try {
      const block = await produce({ round, parent, timestamp })
      if (!block || this.stopped || round !== this.round) return
      this.emit('produced', block, round)
      await this.receive(block, undefined)
    } catch (error) {
      this.logger.error({ err: (error as Error).message, round }, 'production failed')
    }
  }
}
