import { EventEmitter } from 'node:events'
import type { ChainStore } from '@chronos/chain-store'
import {
  type Block,
  type BlockHeader,
  type Logger,
  type Service,
  silentLogger,
} from '@chronos/codec'
import {
  type ClientSessionEvents,
  PEER_CLOSE_REASONS,
  PENALISED_REASONS,
  type Peer,
  type PeerManager,
} from '@chronos/peer'
import { findCommonAncestor } from './ancestor.js'
import { SyncError } from './errors.js'
import { retryable } from './failure.js'
import { type ForkEffect, type ForkState, startFork, stepFork } from './fork-download.js'
import {
  type Claim,
  isBehind,
  isPossibleClaim,
  type PeerView,
  PlannerMemory,
  plan,
  type RetryBackoff,
} from './planner.js'
import { ProgressMeter, type SyncProgress } from './progress.js'
import { type BlockSource, RangeDownload } from './range-download.js'

/** Blocks written per store batch while catching up. */
const MAX_APPEND_BATCH = 128

export interface SyncOptions {
  store: ChainStore
  peers: PeerManager
  /** PULL_BLOCKs in flight across all peers. Default 64. */
  window?: number
  /** Blocks held in memory for one reorg before giving up on it. Default 10,000. */
  maxReorgBlocks?: number
  /** Progress events at most this often, and only for a sync that lasts longer or catches up. Default 1 s. */
  progressIntervalMs?: number
  /**
   * How long a peer may be exactly one block ahead before we sync from it.
   * At a round end peers confirm within milliseconds of each other, and the
   * first Status to arrive would otherwise start a needless one-block sync
   * that races our own confirmation. Default 250 ms.
   */
  oneAheadGraceMs?: number
  /**
   * Peers the planner remembers (claims, hints, verdicts), the oldest going
   * first past this bound; and, in a table of its own with the same bound,
   * the verdicts (rejected, failed) of peers that disconnected. Default 1,024.
   */
  maxRememberedPeers?: number
  /**
   * A sync that failed with the connection (a request timed out, the session
   * closed) or for a reason of ours is tried again after this long, doubling per failure of the same
   * claim up to `failedSyncRetryMaxMs`, and only when no other peer's claim
   * is worth trying. Such a claim never holds back production again. Default
   * 2 s, at least 100 ms.
   */
  failedSyncRetryMs?: number
  /** The longest wait before a failed claim is tried again. Default 60 s. */
  failedSyncRetryMaxMs?: number
  /**
   * Unix ms now. Blocks more than 15 s ahead of it are refused, blocks of a
   * round that has not ended are not confirmed (PROTOCOL.md section 6).
   */
  now?: () => number
  logger?: Logger
}

export interface SyncEvents {
  /**
   * While a sync runs longer than `progressIntervalMs`, at most once per
   * interval; and at the end of one that ran that long or wrote more than
   * one batch (128 blocks). Never for the one-block syncs of following.
   */
  progress: [progress: SyncProgress]
  /** A sync with a peer ended; `applied` blocks were written (0 if its chain was not better). */
  done: [result: SyncResult]
  /** A sync with a peer failed part way; what was written before the failure stays. */
  failed: [failure: SyncFailure]
}

export interface SyncFailure {
  /** The peer's address. */
  peer: string
  /** The claim it was after. */
  height: number
  error: Error
  /**
   * When the same claim is tried again (it failed with the connection or for
   * a reason of ours); undefined when the peer's blocks or offences disproved
   * it: it is not tried again until the peer claims something else.
   */
  retryAtMs: number | undefined
}

export interface SyncResult {
  peer: string
  ancestor: number
  applied: number
  reorged: boolean
  height: number
}

/** One sync with one peer, across the ranges it downloads. */
interface Run {
  readonly peer: Peer
  readonly result: SyncResult
  readonly meter: ProgressMeter
  state: ForkState
  /** Blocks validated for appending, not written yet. */
  readonly toAppend: Block[]
  /** The range being downloaded now (or last). */
  download: RangeDownload | undefined
  lastReport: number
  /** A progress event was emitted during the sync. */
  reported: boolean
}

const claimOf = (peer: Peer): Claim | undefined =>
  peer.status && { height: peer.status.height, head: peer.status.head }

/**
 * Keeps our confirmed chain on the best chain our peers know (PROTOCOL.md
 * section 8). The planner (`planner.ts`) picks whom to sync from; a sync
 * finds the common ancestor by bisection, downloads the rest from every peer
 * that has it, and feeds each block to the fork download (`fork-download.ts`),
 * whose effects this class performs: appends, one atomic reorg once the
 * downloaded chain is better by the codec's fork choice, re-fetches and
 * penalties.
 */
export class SyncEngine extends EventEmitter<SyncEvents> implements Service {
  private readonly store: ChainStore
  private readonly peers: PeerManager
  private readonly window: number
  private readonly maxReorgBlocks: number
  private readonly progressIntervalMs: number
  private readonly oneAheadGraceMs: number
  private readonly now: () => number
  private readonly logger: Logger
  private readonly memory: PlannerMemory
  private readonly retryBackoff: RetryBackoff
  private wakeTimer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  private stopped = false
  private current: { download: RangeDownload; target: Peer; height: number } | undefined

  constructor(options: SyncOptions) {
    super()
    this.store = options.store
    this.peers = options.peers
    this.window = options.window ?? 64
    this.maxReorgBlocks = options.maxReorgBlocks ?? 10_000
    this.progressIntervalMs = options.progressIntervalMs ?? 1000
    this.oneAheadGraceMs = options.oneAheadGraceMs ?? 250
    this.memory = new PlannerMemory(options.maxRememberedPeers ?? 1024)
    // At least 100 ms: a peer that fails at once (too many requests waiting) must not spin us.
    const baseMs = Math.max(100, options.failedSyncRetryMs ?? 2000)
    this.retryBackoff = { baseMs, maxMs: Math.max(baseMs, options.failedSyncRetryMaxMs ?? 60_000) }
    this.now = options.now ?? Date.now
    this.logger = options.logger ?? silentLogger
    const seen = (peer: Peer) => {
      const claim = claimOf(peer)
      if (claim) this.memory.observe(peer.id, claim, this.now())
      this.joinCurrent(peer)
      this.schedule()
    }
    this.peers.on('status', seen)
    this.peers.on('ready', seen)
    // What it claimed lives only as long as the peer is connected (what we judged of it stays).
    this.peers.on('disconnect', (peer) => {
      if (!peer.connected) this.memory.forget(peer.id)
    })
  }

  /** The Server side of sync: the PULL_BLOCK answer. */
  readonly serve = async (height: number): Promise<Block | null> =>
    (await this.store.getByHeight(height)) ?? null

  /** True while a sync runs. */
  get syncing(): boolean {
    return this.running !== undefined
  }

  /**
   * True when a ready peer credibly claims a longer chain than ours (see
   * `isBehind` in planner.ts): an impossible height, a claim whose sync
   * failed or was not better, or a chain ahead of our clock does not count.
   * A producer should not pack on a head it is about to leave; this tells it
   * when, without letting a lie stop production.
   */
  behind(): boolean {
    const head = this.store.head().block_header
    return isBehind({
      ours: { height: head.height, head: head.hash },
      peers: this.readyViews(),
      memory: this.memory,
      nowMs: this.now(),
      clock: this.store.params,
    })
  }

  /**
   * A peer (its id, or the Status address gossip knows it by) sent a block
   * whose parent we lack: its chain may be better even if its last Status
   * did not say so. Checks it now.
   */
  hint(peer: string): void {
    const known = this.peers.get(peer) ?? this.peers.peers().find((p) => p.address === peer)
    this.memory.hint(known?.id ?? peer)
    this.schedule()
  }

  /** Resolves when no sync is running or due. */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  /** Sync is driven by the peers' events from construction on: nothing to acquire. */
  async start(): Promise<void> {}

  /**
   * Stops choosing and downloading, and resolves once the download under
   * way has settled (its requests end when the peers' connections close).
   */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.wakeTimer)
    this.current?.download.stop()
    await this.idle().catch(() => {})
  }

  private schedule(): void {
    if (this.stopped) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.loop().finally(() => {
      this.running = undefined
    })
  }

  private async loop(): Promise<void> {
    for (;;) {
      this.again = false
      if (this.stopped) return
      const decision = this.plan()
      if (decision.kind !== 'sync') {
        if (decision.kind === 'wait') this.wakeAt(decision.untilMs)
        if (this.again) continue
        return
      }
      const peer = this.peers.get(decision.peer)
      if (!peer?.ready) continue
      // Our session to it closed for an offence mid-sync (by us or by the session: a malformed
      // block, an answer out of order): the sync then ends as if nobody could serve, but the claim
      // was disproved. Only this session: its inbound one to us is another matter.
      const session = peer.outbound!
      let disproved = false
      const closed = (...[info]: ClientSessionEvents['close']) => {
        disproved ||= info.initiator === 'local' && PENALISED_REASONS.has(info.reason)
      }
      session.on('close', closed)
      try {
        await this.syncWith(peer, decision.claim)
      } catch (error) {
        const retry = retryable(error) && !disproved
        this.logger.warn(
          { peer: peer.address, err: (error as Error).message, retry },
          'sync failed',
        )
        // Do not spin on the same peer. A claim its blocks disproved waits for another claim; one
        // that failed with the connection (a starved peer's timeout looks the same) is tried again
        // after a backoff, else two equal forks whose claims no longer change never meet.
        // Against its latest claim: the sync may have followed the fork past the planned one.
        const claim = claimOf(peer) ?? decision.claim
        if (retry) this.memory.fail(peer.id, claim, this.now(), this.retryBackoff)
        else this.memory.reject(peer.id, decision.claim)
        this.emit('failed', {
          peer: peer.address,
          height: decision.claim.height,
          error: error as Error,
          retryAtMs: retry ? this.memory.get(peer.id)?.failed?.retryAtMs : undefined,
        })
        // Gone meanwhile: its verdict belongs with the departed, not among connected peers.
        if (!peer.connected) this.memory.forget(peer.id)
      } finally {
        session.off('close', closed)
      }
    }
  }

  private readyViews(): PeerView[] {
    const peers: PeerView[] = []
    for (const peer of this.peers.readyPeers()) {
      const claim = claimOf(peer)
      if (claim) peers.push({ id: peer.id, claim })
    }
    return peers
  }

  private plan() {
    const nowMs = this.now()
    const peers = this.readyViews()
    for (const { id, claim } of peers) this.memory.observe(id, claim, nowMs)
    const head = this.store.head().block_header
    return plan({
      ours: { height: head.height, head: head.hash },
      peers,
      memory: this.memory,
      nowMs,
      clock: this.store.params,
      oneAheadGraceMs: this.oneAheadGraceMs,
    })
  }

  private wakeAt(untilMs: number): void {
    clearTimeout(this.wakeTimer)
    this.wakeTimer = setTimeout(() => this.schedule(), Math.max(0, untilMs - this.now()) + 1)
  }

  private async syncWith(peer: Peer, claim: Claim): Promise<void> {
    this.memory.started(peer.id)
    const session = peer.outbound!
    const startHeight = this.store.height()
    const ancestor = await findCommonAncestor(this.store, (h) => session.pull(h), claim.height)
    this.logger.debug(
      {
        peer: peer.address,
        ancestor: ancestor.height,
        requests: ancestor.requests,
        roundTrips: ancestor.roundTrips,
        target: claim.height,
      },
      'common ancestor found',
    )
    const ourHeight = this.store.height()
    const result: SyncResult = {
      peer: peer.address,
      ancestor: ancestor.height,
      applied: 0,
      reorged: false,
      height: ourHeight,
    }
    // A chain that is not longer can only win at equal length (decided at the first differing
    // block). Measured against our height when the sync began: blocks gossip confirmed during the
    // search (a round ended) are matched by the peer's own, which grownTip() then asks for.
    if (claim.height < startHeight || claim.height <= ancestor.height) {
      this.memory.reject(peer.id, claim)
      this.emit('done', result)
      return
    }
    const run: Run = {
      peer,
      result,
      meter: new ProgressMeter(claim.height, this.now),
      state: startFork(
        (await this.store.getByHeight(ancestor.height))!,
        await this.ourHeaders(ancestor.height + 1, ourHeight),
      ),
      toAppend: [],
      download: undefined,
      lastReport: this.now(),
      reported: false,
    }
    let from = ancestor.height + 1
    let target = claim
    for (;;) {
      await this.downloadRange(run, from, target.height)
      // Our own confirmations during the download can leave a fork that is
      // still growing behind ours. Follow it to its new tip rather than mark
      // it not better and start over, which under latency can lose every round.
      if (run.state.kind !== 'holdingFork' || this.stopped || !peer.ready) break
      const grown = (await this.grownTip(peer, target)) ?? undefined
      if (!grown) break
      from = target.height + 1
      target = grown
      run.meter.retarget(target.height)
    }
    const { state } = run
    if (state.kind === 'holdingFork') this.memory.reject(peer.id, target)
    if (state.kind === 'ended') {
      const { end } = state
      if (end.reason === 'BAD_TARGET_BLOCK') throw new SyncError('SYNC_ABORTED', end.message)
      if (end.reason === 'TOO_DEEP')
        throw new SyncError('REORG_TOO_DEEP', `reorg deeper than ${end.maxHeld} blocks`)
      // Not an offence: its clock may run ahead of ours. Look again when that round has ended.
      this.logger.debug(
        { peer: peer.address, height: end.height, retryAt: end.retryAtMs },
        'block of a round that has not ended: not confirmed yet',
      )
      this.memory.defer(peer.id, end.retryAtMs)
    }
    // A catch-up ends with a report (so a progress bar completes); following one block per round does not.
    if (run.reported || result.applied > MAX_APPEND_BATCH) this.emit('progress', this.report(run))
    result.height = this.store.height()
    this.emit('done', result)
  }

  /**
   * The peer's tip past `target`, when its chain grew while we downloaded
   * it: its newer Status, else (its beat has not come yet: at a round end we
   * and it confirm within moments, and under load its Status can lag by
   * rounds) the block after `target`, asked for directly. Without that ask,
   * a sync that takes longer than a round after a heal always compares the
   * fork one block short of our own chain, finds it not better, and starts
   * over: the losing side never reorganises (the partition-heal test,
   * starved). Bounded: a peer serves at most one block per ended round, and
   * one of a round that has not ended stops the download (UNCONFIRMABLE).
   */
  private async grownTip(peer: Peer, target: Claim): Promise<Claim | undefined> {
    const claim = claimOf(peer)
    if (
      claim &&
      claim.height > target.height &&
      isPossibleClaim(claim, this.now(), this.store.params)
    )
      return claim
    const next = { height: target.height + 1, head: undefined }
    if (!isPossibleClaim(next, this.now(), this.store.params)) return undefined
    const block = await peer.outbound!.pull(next.height).catch(() => null)
    if (!block || block.block_header.height !== next.height) return undefined
    return { height: next.height, head: block.block_header.hash }
  }

  /** Headers of our chain at heights [from, to]; bounded, as a fork deeper than maxReorgBlocks is refused. */
  private async ourHeaders(from: number, to: number): Promise<BlockHeader[]> {
    if (to - from + 1 > this.maxReorgBlocks)
      throw new SyncError('REORG_TOO_DEEP', `reorg deeper than ${this.maxReorgBlocks} blocks`)
    const headers: BlockHeader[] = []
    for (let height = from; height <= to; height++) {
      const block = await this.store.getByHeight(height)
      if (!block) break
      headers.push(block.block_header)
    }
    return headers
  }

  /** Downloads heights [from, to] of the run's peer chain and steps the fork download with each block. */
  private async downloadRange(run: Run, from: number, to: number): Promise<void> {
    const download = new RangeDownload(from, to, this.sourcesFor(run.peer, to), this.window, {
      unserved: (source, height) => this.penaliseClaim(source, height),
    })
    run.download = download
    this.current = { download, target: run.peer, height: to }
    try {
      for (let height = from; height <= to && run.state.kind !== 'ended'; height++) {
        const { block, source } = download.take() ?? (await download.next())
        // Just before the step, so that what gossip confirmed while we waited is seen.
        if (this.ourGrowthUnseen(run)) await this.noticeOurGrowth(run)
        const step = stepFork(
          run.state,
          { type: 'block', block, source, nowMs: this.now() },
          { network: this.store.params, target: run.peer.id, maxHeld: this.maxReorgBlocks },
        )
        run.state = step.state
        for (const effect of step.effects) {
          if (effect.type === 'refetch') {
            download.reject(effect.height, effect.source)
            height--
          } else await this.perform(run, effect)
        }
        const last = height === to || run.state.kind === 'ended'
        if (run.toAppend.length >= MAX_APPEND_BATCH || last || !download.ready)
          await this.flush(run)
        const refused = step.effects.some((e) => e.type === 'penalise' || e.type === 'skip')
        if (!refused && run.state.kind !== 'ended') run.meter.step()
        if (this.now() - run.lastReport >= this.progressIntervalMs) {
          run.lastReport = this.now()
          run.reported = true
          this.emit('progress', this.report(run))
        }
      }
    } finally {
      download.stop()
      this.current = undefined
    }
    await this.flush(run)
  }

  private report(run: Run): SyncProgress {
    return run.meter.report(this.store.height(), run.download?.activeSources ?? 0)
  }

  private async perform(run: Run, effect: Exclude<ForkEffect, { type: 'refetch' }>): Promise<void> {
    switch (effect.type) {
      case 'append':
        run.toAppend.push(effect.block)
        return
      case 'reorg':
        await this.flush(run)
        await this.store.reorg(effect.ancestor, effect.blocks)
        this.logger.info(
          { peer: run.peer.address, forkHeight: effect.ancestor, blocks: effect.blocks.length },
          'reorganised onto a better chain',
        )
        run.result.applied += effect.blocks.length
        run.result.reorged = true
        return
      case 'penalise':
        // The blocks before the bad one are valid: keep them.
        await this.flush(run)
        this.penalise(effect.source, PEER_CLOSE_REASONS.INVALID_BLOCK, effect.problem)
        return
      case 'skip':
        await this.flush(run)
        this.logger.debug(
          { peer: effect.source, height: effect.height, problem: effect.problem },
          'block skipped',
        )
        return
    }
  }

  /** Writes the validated blocks in one batch: one disk round trip, not one per block. */
  private async flush(run: Run): Promise<void> {
    if (run.toAppend.length === 0) return
    await this.store.appendMany(run.toAppend)
    run.result.applied += run.toAppend.length
    run.toAppend.length = 0
  }

  /**
   * Gossip may confirm blocks of our own while we download: tells the fork
   * download, so that fork choice compares against the chain we really have.
   */
  private async noticeOurGrowth(run: Run): Promise<void> {
    const { state } = run
    if (state.kind === 'ended' || !this.ourGrowthUnseen(run)) return
    const known = this.knownOwnHeight(state)
    const height = this.store.height()
    const headers = await this.ourHeaders(known + 1, height)
    run.state = stepFork(
      run.state,
      { type: 'ourBlocks', headers },
      { network: this.store.params, target: run.peer.id, maxHeld: this.maxReorgBlocks },
    ).state
  }

  /** Our chain grew past what the fork download knows of it (and no blocks of ours are pending). */
  private ourGrowthUnseen(run: Run): boolean {
    const { state } = run
    if (state.kind === 'ended' || run.toAppend.length > 0) return false
    return this.store.height() > this.knownOwnHeight(state)
  }

  private knownOwnHeight(state: Exclude<ForkState, { kind: 'ended' }>): number {
    return state.kind === 'holdingFork'
      ? state.ancestor + state.ours.length
      : state.parent.block_header.height
  }

  /** The target peer first, then every ready peer whose Status says it has the whole range. */
  private sourcesFor(target: Peer, height: number): BlockSource[] {
    const sources = [this.sourceOf(target)]
    for (const peer of this.peers.readyPeers())
      if (peer !== target && this.canServe(peer, target, height)) sources.push(this.sourceOf(peer))
    return sources
  }

  private sourceOf(peer: Peer): BlockSource {
    const session = peer.outbound!
    return {
      id: peer.id,
      pull: (height) => session.pull(height),
      claimedHeight: () => peer.status?.height ?? -1,
    }
  }

  private canServe(peer: Peer, target: Peer, height: number): boolean {
    const claim = claimOf(peer)
    if (!peer.ready || !claim || !isPossibleClaim(claim, this.now(), this.store.params))
      return false
    // A claim whose own sync failed does not make a peer a source for another.
    if (this.memory.isRejected(peer.id, claim) || this.memory.hasFailed(peer.id, claim))
      return false
    const sameTip = claim.height === height && claim.head === target.status?.head
    return sameTip || claim.height > height
  }

  /** A peer that connects or catches up during a download starts serving it. */
  private joinCurrent(peer: Peer): void {
    const current = this.current
    if (current && peer !== current.target && this.canServe(peer, current.target, current.height))
      current.download.add(this.sourceOf(peer))
  }

  /** Its Status promised a height it then did not serve: a lie that could make us spin. */
  private penaliseClaim(id: string, height: number): void {
    this.penalise(
      id,
      PEER_CLOSE_REASONS.CLAIM_NOT_SERVED,
      `answered null for height ${height}, which its Status claimed`,
    )
  }

  /** Closing with a penalised reason makes the PeerManager count it against the peer. */
  private penalise(id: string, reason: string, problem: string): void {
    const peer = this.peers.get(id)
    this.logger.warn({ peer: peer?.address ?? id, id, reason, problem }, 'peer penalised')
    peer?.outbound?.close(reason, new Error(problem))
  }
}
