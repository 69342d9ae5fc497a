import { EventEmitter } from 'node:events'
import type { ChainStore } from '@chronos/chain-store'
import {
  type Block,
  type BlockHeader,
  checkValidOnParent,
  compareBlocks,
  fanout,
  isConfirmable,
  isInTurn,
  type Logger,
  MAX_CLOCK_AHEAD_MS,
  roundEnd,
  roundOf,
  roundStart,
  type Service,
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
import { AnnounceBudget } from './announce-budget.js'
import { FetchTracker } from './fetch-tracker.js'
import { OrphanPool } from './orphan-pool.js'
import {
  openRound,
  type Round,
  type RoundEffect,
  type RoundPhase,
  type RoundRules,
  step,
} from './round.js'
import { chooseFirst } from './shuffle.js'

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
  | 'HOLD_FULL'

/** Why a block was refused by the cheap screen, before its body was verified (or looked at again). */
export type ScreenReason = 'KNOWN' | 'REFUSED_BEFORE' | 'LATE' | 'UNTIMELY'

/** Why a block is held rather than considered now. */
export type HoldReason = 'ORPHAN' | 'CONFIRMING'

/** Gossip's side of the Server handlers; `screenBlock` runs before a NEW_BLOCK's full verification. */
export type GossipHandlers = Omit<ServerHandlers, 'pull' | 'screenBlock'> & {
  /**
   * Cheap refusal (issue 10 item 9): called with a header whose hash was
   * recomputed, before the body is verified. 'ignore' for a hash we hold,
   * accepted or refused before, and for a block of an ended round.
   */
  screenBlock(header: BlockHeader, from: ServerSession): 'accept' | 'ignore'
}

export interface GossipOptions {
  store: ChainStore
  peers: PeerManager
  /** Called at each round start; the block it returns is our candidate. */
  produce?: Producer
  /** A block whose parent we lack came from `peer`: its chain may be better (wire to sync). */
  onOrphan?: (peer: string, block: Block) => void
  /** How long the first announcer of a hash has to deliver it before the next is asked. Default 1 s. */
  fetchTimeoutMs?: number
  /** Longest an answer to NEW_BLOCK_HASH is held while another announcer delivers. Default 200 ms. */
  maxAnnounceHoldMs?: number
  /** Hashes tracked as being fetched. Default 1024. */
  maxFetches?: number
  /**
   * Candidate hashes remembered, to answer BLOCK_KNOWN. Default 1024: four
   * rounds even at the candidate cap, and an announcement older than that
   * is of a late block anyway.
   */
  maxRememberedHashes?: number
  /** Hashes of blocks refused (late, untimely, invalid on their parent) remembered, so a replay costs nothing. Default 4096. */
  maxRefusedHashes?: number
  /** Candidates of the current round kept (to serve GET_BLOCK and reselect). Default 256. */
  maxCandidates?: number
  /** Picks of one round relayed (PROTOCOL.md section 7). Default 16; our own and in-turn blocks are exempt. */
  maxRelaysPerRound?: number
  /** Blocks of a later round held until it starts. Default 64. */
  maxFutureBlocks?: number
  /** Current-round candidates held while sync fetches their parent. Default 32. */
  maxOrphanCandidates?: number
  /** Blocks held while the round's pick is being appended. Default 256. */
  maxHeldWhileConfirming?: number
  /**
   * Unknown announced hashes taken up (store lookup, GET_BLOCK) per announcer
   * per round. Default 64. Past it (or past the round's total) an
   * announcement is answered BLOCK_KNOWN when the round ends, which throttles
   * the announcer's connection to its pending-answer cap per round.
   */
  maxAnnouncesPerPeer?: number
  /** Unknown announced hashes taken up across all announcers per round. Default 1024 (each costs a store lookup). */
  maxAnnouncesPerRound?: number
  /** Priority of two candidates on one parent, < 0 when a ranks higher. Default: the codec's rule for the store's network. */
  compare?: (a: Block, b: Block) => number
  /** Whether a block is relayed even past the round's relay bound (in turn in a permissioned network). */
  exemptFromRelayBound?: (block: Block) => boolean
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

export const GOSSIP_DEFAULTS = {
  fetchTimeoutMs: 1000,
  maxAnnounceHoldMs: 200,
  maxFetches: 1024,
  maxRememberedHashes: 1024,
  maxRefusedHashes: 4096,
  maxCandidates: 256,
  maxRelaysPerRound: 16,
  maxFutureBlocks: 64,
  maxOrphanCandidates: 32,
  maxHeldWhileConfirming: 256,
  maxAnnouncesPerPeer: 64,
  maxAnnouncesPerRound: 1024,
} as const

export interface GossipEvents {
  /** A valid candidate of the current round; `selected` when it became the round's pick. */
  candidate: [block: Block, info: { from: string | undefined; selected: boolean }]
  dropped: [block: Block, info: { from: string | undefined; reason: DropReason }]
  /** Refused by the cheap screen or the seen-hash caches: no verification, no work. */
  ignored: [hash: string, info: { from: string | undefined; reason: ScreenReason }]
  /** Held for later: an orphan of this round while sync fetches its parent, or an arrival during confirmation. */
  held: [block: Block, info: { from: string | undefined; reason: HoldReason }]
  /** A pick that won but was not broadcast: the round's relay bound was spent. */
  relaySuppressed: [block: Block, round: number]
  /** An announcement past the announcer's or the round's budget: answered BLOCK_KNOWN at the round's end, untracked. */
  announceDeclined: [hash: string, info: { from: string | undefined }]
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

interface Arrival {
  block: Block
  from: Peer | undefined
}

/**
 * Rounds, selection, confirmation and broadcast (PROTOCOL.md sections 7
 * and 9). Per round it keeps the highest-priority valid candidate on our
 * head, relays it (whole to √m peers, as a hash to the rest, never to a
 * peer known to have it; at most `maxRelaysPerRound` picks a round), and
 * confirms it when the round ends. The round itself is one value moved by
 * the pure machine in round.ts; this class does the I/O around it.
 */
export class GossipEngine extends EventEmitter<GossipEvents> implements Service {
  readonly handlers: GossipHandlers
  private readonly store: ChainStore
  private readonly peers: PeerManager
  private readonly now: () => number
  private readonly random: () => number
  private readonly logger: Logger
  private readonly fetches: FetchTracker
  private readonly remembered: KnownSet
  private readonly refused: KnownSet
  private readonly orphans: OrphanPool<Peer | undefined>
  private readonly budget: AnnounceBudget
  private readonly rules: RoundRules
  private readonly maxFutureBlocks: number
  private readonly fullBlockPeers: (peersWithoutBlock: number) => number
  private readonly exempt: (block: Block) => boolean
  private phase: RoundPhase<Arrival> = { kind: 'open', round: openRound(Number.NEGATIVE_INFINITY) }
  private future: Arrival[] = []
  /** Answers to announcements past the budget, released at the round's end (bounded by each session's pending answers). */
  private declined: (() => void)[] = []
  private timer: NodeJS.Timeout | undefined
  private stopped = true
  private unsubscribeHead: (() => void) | undefined

  constructor(private readonly options: GossipOptions) {
    super()
    const d = GOSSIP_DEFAULTS
    this.store = options.store
    this.peers = options.peers
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    this.logger = options.logger ?? silentLogger
    this.fetches = new FetchTracker({
      timeoutMs: options.fetchTimeoutMs ?? d.fetchTimeoutMs,
      maxFetches: options.maxFetches ?? d.maxFetches,
      maxHoldMs: options.maxAnnounceHoldMs ?? d.maxAnnounceHoldMs,
    })
    this.remembered = new KnownSet(options.maxRememberedHashes ?? d.maxRememberedHashes)
    this.refused = new KnownSet(options.maxRefusedHashes ?? d.maxRefusedHashes)
    this.orphans = new OrphanPool(options.maxOrphanCandidates ?? d.maxOrphanCandidates)
    this.budget = new AnnounceBudget(
      options.maxAnnouncesPerPeer ?? d.maxAnnouncesPerPeer,
      options.maxAnnouncesPerRound ?? d.maxAnnouncesPerRound,
    )
    this.rules = {
      compare: options.compare ?? priorityOf(this.store),
      maxCandidates: options.maxCandidates ?? d.maxCandidates,
      maxRelays: options.maxRelaysPerRound ?? d.maxRelaysPerRound,
      maxHeld: options.maxHeldWhileConfirming ?? d.maxHeldWhileConfirming,
    }
    this.maxFutureBlocks = options.maxFutureBlocks ?? d.maxFutureBlocks
    this.fullBlockPeers = options.fullBlockPeers ?? ((m) => fanout(m).fullBlock)
    // In turn in a permissioned network: the block the round is for, never crowded out by spam.
    this.exempt =
      options.exemptFromRelayBound ?? ((block) => isInTurn(block.block_header, this.store.params))
    this.handlers = {
      newBlock: (block, session) => {
        this.receive(block, this.peerOf(session)).catch((error: Error) =>
          this.logger.error({ err: error.message }, 'handling NEW_BLOCK failed'),
        )
      },
      newBlockHash: (hash, session) => this.announced(hash, this.peerOf(session)),
      screenBlock: (header, session) => this.screen(header, this.peerOf(session)),
    }
    this.peers.on('disconnect', (peer) => {
      if (!peer.connected) this.fetches.forget(peer.id)
    })
  }

  /** The current round as one value (its number, candidates, pick, relay count). */
  get round(): Round {
    return this.phase.round
  }

  get currentRound(): number {
    return this.phase.round.number
  }

  /** Hashes being fetched from an announcer (bounded by `maxFetches`). */
  get pendingFetches(): number {
    return this.fetches.size
  }

  /** Current-round candidates held while their parent is fetched. */
  get heldOrphans(): number {
    return this.orphans.size
  }

  /** The candidate selected so far in the current round. */
  get selectedCandidate(): Block | undefined {
    return this.phase.round.selected
  }

  /** Starts the round clock: from now on rounds end, confirm and (if producing) produce. */
  async start(): Promise<void> {
    this.stopped = false
    this.phase = { kind: 'open', round: openRound(roundOf(this.now(), this.store.params)) }
    this.unsubscribeHead = this.store.onHead(({ head }) => this.headMoved(head))
    this.armTimer()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.unsubscribeHead?.()
    this.releaseDeclined()
    this.fetches.stop()
    this.orphans.clear()
  }

  /** Whether we hold, accepted or refused `hash` (so it needs no more work). */
  private seen(hash: string): ScreenReason | undefined {
    if (this.phase.round.candidates.has(hash) || this.remembered.has(hash)) return 'KNOWN'
    if (this.orphans.has(hash)) return 'KNOWN'
    if (this.refused.has(hash)) return 'REFUSED_BEFORE'
    return undefined
  }

  /** The cheap screen: a header whose hash is correct; no body check, no store access. */
  private screen(header: BlockHeader, from: Peer | undefined): 'accept' | 'ignore' {
    const hash = header.hash
    from?.known.add(hash)
    const source = from?.address
    const seen = this.seen(hash)
    if (seen) return this.ignore(hash, source, seen)
    if (header.timestamp - this.now() > MAX_CLOCK_AHEAD_MS) {
      this.refused.add(hash)
      return this.ignore(hash, source, 'UNTIMELY')
    }
    if (roundOf(header.timestamp, this.store.params) < this.phase.round.number) {
      this.refused.add(hash)
      return this.ignore(hash, source, 'LATE')
    }
    return 'accept'
  }

  private ignore(hash: string, from: string | undefined, reason: ScreenReason): 'ignore' {
    this.emit('ignored', hash, { from, reason })
    return 'ignore'
  }

  /** Takes a block as a candidate, from a peer or (from undefined) from us; relays it if selected. */
  async receive(block: Block, from: Peer | undefined): Promise<void> {
    const hash = block.block_header.hash
    from?.known.add(hash)
    const source = from?.address
    const seen = this.seen(hash)
    if (seen) {
      this.ignore(hash, source, seen)
      return
    }
    this.fetches.arrived(hash)
    await this.place(block, from)
  }

  /**
   * Decides where a new block goes: the round's candidates, the round after's queue, the orphan
   * hold, or a drop. The one await (does the store hold the parent?) can straddle a head change,
   * as when a sync lands the parent's fork meanwhile; a decision taken on the old head would drop
   * a block that now extends ours, or hold an orphan whose parent's arrival was already handled.
   * So a head that moved during the lookup means deciding again on the new one.
   */
  private async place(block: Block, from: Peer | undefined): Promise<void> {
    const source = from?.address
    if (this.phase.kind === 'confirming') {
      // Its parent is likely the pick being appended: consider it once that is our head.
      this.apply({ type: 'arrived', item: { block, from } })
      return
    }
    if (block.block_header.timestamp - this.now() > MAX_CLOCK_AHEAD_MS)
      return this.refuse(block, source, 'UNTIMELY')
    const round = roundOf(block.block_header.timestamp, this.store.params)
    const current = this.phase.round.number
    if (round < current) return this.refuse(block, source, 'LATE')
    if (round > current) {
      if (this.future.length >= this.maxFutureBlocks) return this.drop(block, source, 'FUTURE_FULL')
      this.future.push({ block, from })
      return
    }
    const head = this.store.head()
    if (block.block_header.prev_hash !== head.block_header.hash) {
      if (block.block_header.height <= head.block_header.height)
        return this.drop(block, source, 'NOT_ON_HEAD')
      const parentStored = await this.store.has(block.block_header.prev_hash)
      if (this.store.head().block_header.hash !== head.block_header.hash)
        return this.place(block, from)
      if (parentStored) return this.drop(block, source, 'NOT_ON_HEAD')
      // Section 7: hold it while sync fetches the parent; considered once the parent is our head.
      if (this.phase.round.number === round) {
        this.orphans.hold(block, from, round)
        this.emit('held', block, { from: source, reason: 'ORPHAN' })
      } else this.drop(block, source, 'ORPHAN')
      if (source) this.options.onOrphan?.(source, block)
      return
    }
    this.consider(block, head, from)
  }

  /** `block` is of the current round and extends `head`: check it there and offer it to the round. */
  private consider(block: Block, head: Block, from: Peer | undefined): void {
    const source = from?.address
    const check = checkValidOnParent(block, head, this.store.params)
    if (!check.ok) {
      this.refuse(block, source, 'INVALID_ON_PARENT')
      return
    }
    // A new valid candidate is what a peer is worth: its outbound slot is safe from eviction.
    from?.credit()
    this.remembered.add(block.block_header.hash)
    const effects = this.apply({
      type: 'candidate',
      block,
      head: head.block_header.hash,
      exempt: source === undefined || this.exempt(block),
    })
    const selected = effects.some((e) => e.type === 'selected')
    this.emit('candidate', block, { from: source, selected })
  }

  /** Runs one machine step and carries out its immediate effects. */
  private apply(event: Parameters<typeof step<Arrival>>[1]): RoundEffect<Arrival>[] {
    const { phase, effects } = step(this.phase, event, this.rules)
    this.phase = phase
    for (const effect of effects) {
      switch (effect.type) {
        case 'relay':
          this.broadcast(effect.block)
          break
        case 'relay-suppressed':
          this.emit('relaySuppressed', effect.block, phase.round.number)
          break
        case 'held':
          this.emit('held', effect.item.block, {
            from: effect.item.from?.address,
            reason: 'CONFIRMING',
          })
          break
        case 'hold-full':
          this.drop(effect.item.block, effect.item.from?.address, 'HOLD_FULL')
          break
        case 'empty':
          this.emit('empty', effect.round)
          break
        case 'confirmed': {
          this.emit('confirmed', effect.block, effect.round)
          // Our new head is news only to a peer that may not hold the block: one we sent it
          // (or its hash) to, or that sent it to us, confirms the same block itself; the
          // periodic beat still reaches everyone within the status interval.
          const hash = effect.block.block_header.hash
          this.peers.beatAll((peer) => !peer.known.has(hash))
          break
        }
        default:
          break
      }
    }
    return effects
  }

  /** Our head moved (sync, or our own confirmation): reselect, and adopt orphans that now fit. */
  private headMoved(head: Block): void {
    if (this.stopped || this.phase.kind !== 'open') return
    this.apply({ type: 'head', head: head.block_header.hash })
    this.adoptOrphans(head)
  }

  private adoptOrphans(head: Block): void {
    const round = this.phase.round.number
    for (const held of this.orphans.takeChildrenOf(head.block_header.hash, round))
      this.consider(held.block, head, held.from)
  }

  /** NEW_BLOCK_HASH from a peer: BLOCK_KNOWN if we have the block, else GET_BLOCK (once per hash). */
  private async announced(hash: string, from: Peer | undefined): Promise<AnnounceAnswer> {
    from?.known.add(hash)
    if (this.seen(hash)) return 'known'
    const source = from?.address
    // Charged before the store lookup: that lookup is the spend the budget bounds.
    if (!this.budget.take(from?.id ?? '', this.phase.round.number)) {
      this.emit('announceDeclined', hash, { from: source })
      // Declined, and answered only when the round ends: answers on a connection go out in
      // order, so the flooder's session fills its pending answers and stops being read. Its
      // own flood is what waits; no other announcer's answer is held (item 11).
      return new Promise((resolve) => this.declined.push(() => resolve('known')))
    }
    if (await this.store.has(hash)) return 'known'
    // The block may have come while the store was read: asking for it now would fetch it
    // again, and open a fetch for a block we hold (its deadline would ask the next announcer).
    if (this.seen(hash)) return 'known'
    this.emit('announced', hash, { from: source })
    if (!from) return 'wanted'
    return this.fetches.announce(hash, from.id)
  }

  private releaseDeclined(): void {
    const declined = this.declined
    this.declined = []
    for (const answer of declined) answer()
  }

  /** NEW_BLOCK to √m of the peers that lack it, NEW_BLOCK_HASH to the others. */
  private broadcast(block: Block): void {
    const hash = block.block_header.hash
    // Observers are not relaying nodes: they are left out of m (section 9).
    const targets = this.peers.relayPeers().filter((peer) => !peer.known.has(hash))
    const fullBlock = this.fullBlockPeers(targets.length)
    chooseFirst(targets, fullBlock, this.random)
    targets.forEach((peer, i) => {
      if (i < fullBlock) this.sendWhole(peer, block)
      else this.announceTo(peer, block)
    })
    // Observers (the bridge) watch from outside m: the hash only, the block if they ask for it.
    for (const peer of this.peers.readyPeers())
      if (peer.observer && !peer.known.has(hash)) this.announceTo(peer, block)
  }

  private sendWhole(peer: Peer, block: Block): void {
    const hash = block.block_header.hash
    peer.known.add(hash)
    peer.outbound!.sendBlock(block)
    this.emit('sent', { to: peer.address, hash, kind: 'block' })
  }

  /** NEW_BLOCK_HASH; the block follows if the peer answers GET_BLOCK. */
  private announceTo(peer: Peer, block: Block): void {
    const hash = block.block_header.hash
    peer.known.add(hash)
    const session = peer.outbound!
    this.emit('sent', { to: peer.address, hash, kind: 'hash' })
    session.announce(hash).then(
      (answer) => {
        if (answer !== 'wanted' || !session.open) return
        session.sendBlock(block)
        this.emit('sent', { to: peer.address, hash, kind: 'block' })
      },
      () => {},
    )
  }

  /** Dropped for good: a replay of the same hash is ignored by the screen. */
  private refuse(block: Block, from: string | undefined, reason: DropReason): void {
    this.refused.add(block.block_header.hash)
    this.drop(block, from, reason)
  }

  private drop(block: Block, from: string | undefined, reason: DropReason): void {
    this.logger.debug(
      { peer: from, height: block.block_header.height, hash: block.block_header.hash, reason },
      'block dropped',
    )
    this.emit('dropped', block, { from, reason })
  }

  /** The peer behind a session: by its proven key, else its Status address. */
  private peerOf(session: ServerSession): Peer | undefined {
    const id = session.peerId
    return id === undefined ? undefined : this.peers.get(id)
  }

  private armTimer(): void {
    if (this.stopped) return
    const delay = Math.max(0, roundEnd(this.phase.round.number, this.store.params) - this.now())
    this.timer = setTimeout(() => void this.tick(), delay)
  }

  /**
   * Round end: confirm its pick, move to the round the clock is in, produce
   * there. Blocks that arrive while the pick is appended are held and
   * considered after, on the new head (issue 11: they used to be dropped).
   */
  private async tick(): Promise<void> {
    const now = this.now()
    const pick = this.phase.round.selected
    const effects = this.apply({
      type: 'end',
      next: roundOf(now, this.store.params),
      head: this.store.head().block_header.hash,
      // Section 6: only a block of an ended round is confirmed (a timer never fires early, but the rule has one home).
      confirmable: pick !== undefined && isConfirmable(pick, now, this.store.params),
    })
    this.orphans.pruneBefore(this.phase.round.number)
    this.releaseDeclined()
    const confirm = effects.find((e) => e.type === 'confirm')
    let replay: readonly Arrival[] = []
    if (confirm) {
      let ok = false
      try {
        await this.store.append(confirm.block)
        ok = true
      } catch (error) {
        this.logger.warn(
          { err: (error as Error).message, round: confirm.round },
          'confirmation failed',
        )
      }
      const after = this.apply({ type: 'appended', ok })
      for (const effect of after) if (effect.type === 'replay') replay = effect.items
    }
    if (this.stopped) return
    this.armTimer()
    this.adoptOrphans(this.store.head())
    const held = this.future
    this.future = []
    await this.produce()
    for (const { block, from } of [...replay, ...held]) await this.receive(block, from)
  }

  private async produce(): Promise<void> {
    const produce = this.options.produce
    if (!produce) return
    const round = this.phase.round.number
    const parent = this.store.head()
    const start = roundStart(round, this.store.params)
    const timestamp = Math.max(this.now(), start, parent.block_header.timestamp + 1)
    if (roundOf(timestamp, this.store.params) !== round) return
    try {
      const block = await produce({ round, parent, timestamp })
      if (!block || this.stopped || round !== this.phase.round.number) return
      this.emit('produced', block, round)
      await this.receive(block, undefined)
    } catch (error) {
      this.logger.error({ err: (error as Error).message, round }, 'production failed')
    }
  }
}

/** The priority rule of the store's network (section 7; section 12 adds in-turn priority). */
function priorityOf(store: ChainStore): (a: Block, b: Block) => number {
  return (a, b) => compareBlocks(a.block_header, b.block_header, store.params)
}
