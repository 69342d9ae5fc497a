import { EventEmitter } from 'node:events'
import type { ChainStore } from '@chronos/chain-store'
import {
  type Block,
  checkValidOnParent,
  comparePriority,
  isTimely,
  type Logger,
  silentLogger,
} from '@chronos/codec'
import { PEER_CLOSE_REASONS, type Peer, type PeerManager } from '@chronos/peer'
import { findCommonAncestor } from './ancestor.js'
import { SyncError } from './errors.js'
import { ProgressMeter, type SyncProgress } from './progress.js'
import { type BlockSource, RangeDownload } from './range-download.js'

/** Blocks written per store batch while catching up. */
const MAX_APPEND_BATCH = 128

function sourceOf(peer: Peer): BlockSource {
  const session = peer.outbound!
  return { address: peer.address, pull: (height) => session.pull(height) }
}

export interface SyncOptions {
  store: ChainStore
  peers: PeerManager
  /** PULL_BLOCKs in flight across all peers. Default 64. */
  window?: number
  /** Blocks held in memory for one reorg before giving up on it. Default 10,000. */
  maxReorgBlocks?: number
  /** Progress events at most this often. Default 1 s. */
  progressIntervalMs?: number
  /**
   * How long a peer may be exactly one block ahead before we sync from it.
   * At a round end peers confirm within milliseconds of each other, and the
   * first Status to arrive would otherwise start a needless one-block sync
   * that races our own confirmation. Default 250 ms.
   */
  oneAheadGraceMs?: number
  /** Unix ms now; blocks more than 15 s ahead of it are refused (PROTOCOL.md section 6). */
  now?: () => number
  logger?: Logger
}

export interface SyncEvents {
  progress: [progress: SyncProgress]
  /** A sync with a peer ended; `applied` blocks were written (0 if its chain was not better). */
  done: [result: SyncResult]
}

/** A sync's chain from the common ancestor on, while it is downloaded. */
interface ForkState {
  ancestor: number
  /** The last block validated: the next one must link to it. */
  parent: Block
  /** True once the downloaded blocks are on our chain (an extension, or after the reorg). */
  onOurChain: boolean
  /** Downloaded blocks of a fork that does not beat ours yet. */
  pendingReorg: Block[]
  result: SyncResult
}

export interface SyncResult {
  peer: string
  ancestor: number
  applied: number
  reorged: boolean
  height: number
}

/**
 * Keeps our confirmed chain on the best chain our peers know (PROTOCOL.md
 * section 8). A peer's Status that shows a longer chain, or the same height
 * with another head, starts a sync: find the common ancestor by bisection,
 * download the rest from every peer that has it, validate each block on
 * its parent, and append, or replace our suffix in one atomic reorg once
 * the downloaded chain is better by the spec's order.
 */
export class SyncEngine extends EventEmitter<SyncEvents> {
  private readonly store: ChainStore
  private readonly peers: PeerManager
  private readonly window: number
  private readonly maxReorgBlocks: number
  private readonly progressIntervalMs: number
  private readonly now: () => number
  private readonly logger: Logger
  /** Peers whose chain, as of the head they announced, is not better than ours. */
  private readonly notBetter = new Map<string, string>()
  private readonly hinted = new Set<string>()
  /** When each peer was first seen one block ahead with its current head. */
  private readonly oneAhead = new Map<string, { head: string | undefined; since: number }>()
  private readonly oneAheadGraceMs: number
  private graceTimer: NodeJS.Timeout | undefined
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
    this.now = options.now ?? Date.now
    this.logger = options.logger ?? silentLogger
    this.peers.on('status', (peer) => {
      this.joinCurrent(peer)
      this.schedule()
    })
    this.peers.on('ready', (peer) => {
      this.joinCurrent(peer)
      this.schedule()
    })
    // Per-peer memory lives only as long as the peer is connected.
    this.peers.on('disconnect', (peer) => {
      if (peer.connected) return
      this.notBetter.delete(peer.address)
      this.hinted.delete(peer.address)
      this.oneAhead.delete(peer.address)
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
   * A peer sent a block whose parent we lack: its chain may be better even
   * if its last Status did not say so. Checks it now.
   */
  hint(peerAddress: string): void {
    this.hinted.add(peerAddress)
    this.notBetter.delete(peerAddress)
    this.schedule()
  }

  /** Resolves when no sync is running or due. */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.graceTimer)
    this.current?.download.stop()
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
      const peer = this.pickPeer()
      if (!peer || this.stopped) {
        if (this.again && !this.stopped) continue
        return
      }
      const evaluated = peer.status?.head
      try {
        await this.syncWith(peer)
      } catch (error) {
        this.logger.warn({ peer: peer.address, err: (error as Error).message }, 'sync failed')
        // Do not spin on the same peer: wait for a head other than the one that failed.
        this.markNotBetter(peer, evaluated)
      }
    }
  }

  /** The peer whose Status claims the best-looking chain, if it looks better than ours. */
  private pickPeer(): Peer | undefined {
    const height = this.store.height()
    const head = this.store.head().block_header.hash
    let best: Peer | undefined
    for (const peer of this.peers.readyPeers()) {
      const status = peer.status
      if (!status) continue
      const hinted = this.hinted.has(peer.address)
      const skip = status.head !== undefined && this.notBetter.get(peer.address) === status.head
      if (skip && !hinted) continue
      const ahead = status.height > height
      const diverged = status.height === height && status.head !== undefined && status.head !== head
      if (!ahead && !diverged && !hinted) continue
      if (ahead && !hinted && status.height === height + 1 && this.withinGrace(peer)) continue
      if (
        !best ||
        status.height > best.status!.height ||
        (status.height === best.status!.height &&
          comparePriority(status.head ?? '', best.status!.head ?? '') < 0)
      )
        best = peer
    }
    return best
  }

  /** True while a one-ahead peer is in its grace period; re-checks when the period ends. */
  private withinGrace(peer: Peer): boolean {
    const head = peer.status?.head
    const now = performance.now()
    let entry = this.oneAhead.get(peer.address)
    if (!entry || entry.head !== head) {
      entry = { head, since: now }
      this.oneAhead.set(peer.address, entry)
    }
    const left = entry.since + this.oneAheadGraceMs - now
    if (left <= 0) return false
    clearTimeout(this.graceTimer)
    this.graceTimer = setTimeout(() => this.schedule(), left + 1)
    return true
  }

  private async syncWith(peer: Peer): Promise<void> {
    this.hinted.delete(peer.address)
    const session = peer.outbound!
    const evaluated = peer.status!
    const ourHeight = this.store.height()
    const ancestor = await findCommonAncestor(this.store, (h) => session.pull(h), evaluated.height)
    this.logger.debug(
      {
        peer: peer.address,
        ancestor: ancestor.height,
        requests: ancestor.requests,
        target: evaluated.height,
      },
      'common ancestor found',
    )
    const result: SyncResult = {
      peer: peer.address,
      ancestor: ancestor.height,
      applied: 0,
      reorged: false,
      height: ourHeight,
    }
    // A chain that is not longer can only win at equal length (decided at the first differing block).
    if (evaluated.height < ourHeight || evaluated.height <= ancestor.height) {
      this.markNotBetter(peer, evaluated.head)
      result.height = this.store.height()
      this.emit('done', result)
      return
    }
    const fork: ForkState = {
      ancestor: ancestor.height,
      parent: (await this.store.getByHeight(ancestor.height))!,
      onOurChain: ancestor.height === ourHeight,
      pendingReorg: [],
      result,
    }
    let from = ancestor.height + 1
    let target = evaluated.height
    let targetHead = evaluated.head
    for (;;) {
      await this.downloadRange(peer, from, target, fork)
      // Our own confirmations during the download can leave a fork that is
      // still growing behind ours. Follow it to its new tip rather than mark
      // it not better and start over, which under latency can lose every round.
      const now = peer.status
      if (fork.onOurChain || this.stopped || !peer.ready || !now || now.height <= target) break
      from = target + 1
      target = now.height
      targetHead = now.head
    }
    if (!fork.onOurChain) this.markNotBetter(peer, targetHead)
    result.height = this.store.height()
    this.emit('done', result)
  }

  /**
   * Downloads heights [from, to] of `peer`'s chain, validating each block on
   * the one before; appends them while they extend our chain, and holds
   * them as a fork until it beats ours, then reorganises onto it.
   */
  private async downloadRange(
    peer: Peer,
    from: number,
    to: number,
    fork: ForkState,
  ): Promise<void> {
    const { result, pendingReorg } = fork
    const download = new RangeDownload(from, to, this.sourcesFor(peer, to), this.window)
    this.current = { download, target: peer, height: to }
    const meter = new ProgressMeter(to)
    let lastReport = performance.now()
    const toAppend: Block[] = []
    try {
      for (let height = from; height <= to; height++) {
        const { block, source } = await download.next()
        const problem = this.problemWith(block, fork.parent)
        if (problem) {
          // The blocks before the bad one are valid: keep them.
          await this.store.appendMany(toAppend)
          result.applied += toAppend.length
          toAppend.length = 0
          if (problem.penalise) this.penalise(source, problem.message)
          else
            this.logger.debug({ peer: source, height, problem: problem.message }, 'block skipped')
          if (source === peer.address)
            throw new SyncError(
              'SYNC_ABORTED',
              `${peer.address} served a bad block: ${problem.message}`,
            )
          download.reject(height, source)
          height--
          continue
        }
        fork.parent = block
        if (fork.onOurChain) {
          // Write what is already downloaded in one batch: one disk round trip, not one per block.
          toAppend.push(block)
          if (toAppend.length >= MAX_APPEND_BATCH || height === to || !download.ready) {
            await this.store.appendMany(toAppend)
            result.applied += toAppend.length
            toAppend.length = 0
          }
        } else {
          pendingReorg.push(block)
          if (pendingReorg.length > this.maxReorgBlocks)
            throw new SyncError('REORG_TOO_DEEP', `reorg deeper than ${this.maxReorgBlocks} blocks`)
          if (await this.downloadedChainWins(fork.ancestor, pendingReorg)) {
            await this.store.reorg(fork.ancestor, pendingReorg)
            this.logger.info(
              { peer: peer.address, forkHeight: fork.ancestor, blocks: pendingReorg.length },
              'reorganised onto a better chain',
            )
            result.applied += pendingReorg.length
            result.reorged = true
            pendingReorg.length = 0
            fork.onOurChain = true
          }
        }
        meter.step()
        if (performance.now() - lastReport >= this.progressIntervalMs) {
          lastReport = performance.now()
          this.emit('progress', meter.report(this.store.height(), download.activeSources))
        }
      }
    } finally {
      download.stop()
      this.current = undefined
    }
    this.emit('progress', meter.report(this.store.height(), download.activeSources))
  }

  /**
   * Whether chain (ancestor .. downloaded) is better than ours from the
   * same ancestor: longer, or as long with the smaller hash at the first
   * height where they differ, which is ancestor + 1.
   */
  private async downloadedChainWins(ancestor: number, downloaded: Block[]): Promise<boolean> {
    const theirHeight = ancestor + downloaded.length
    const ourHeight = this.store.height()
    if (theirHeight > ourHeight) return true
    if (theirHeight < ourHeight) return false
    const ours = await this.store.getByHeight(ancestor + 1)
    return comparePriority(downloaded[0]!.block_header.hash, ours!.block_header.hash) < 0
  }

  private problemWith(
    block: Block,
    parent: Block,
  ): { message: string; penalise: boolean } | undefined {
    if (!isTimely(block, this.now()))
      return {
        message: `block ${block.block_header.height} is too far in the future`,
        penalise: true,
      }
    const check = checkValidOnParent(block, parent, this.store.params)
    if (check.ok) return undefined
    // Another fork's block does not link: not a fault. A linked block that breaks the rules is.
    return { message: check.message, penalise: check.reason !== 'PREV_HASH' }
  }

  /** The target peer first, then every ready peer whose Status says it has the whole range. */
  private sourcesFor(target: Peer, height: number): BlockSource[] {
    const sources = [sourceOf(target)]
    for (const peer of this.peers.readyPeers())
      if (peer !== target && this.canServe(peer, target, height)) sources.push(sourceOf(peer))
    return sources
  }

  private canServe(peer: Peer, target: Peer, height: number): boolean {
    if (!peer.ready || !peer.status) return false
    const sameTip = peer.status.height === height && peer.status.head === target.status?.head
    return sameTip || peer.status.height > height
  }

  /** A peer that connects or catches up during a download starts serving it. */
  private joinCurrent(peer: Peer): void {
    const current = this.current
    if (current && peer !== current.target && this.canServe(peer, current.target, current.height))
      current.download.add(sourceOf(peer))
  }

  /**
   * Skips `peer` until it announces a head other than `head`: the one we
   * evaluated, which is not always its latest (a Status can arrive mid-sync).
   */
  private markNotBetter(peer: Peer, head: string | undefined): void {
    if (head) this.notBetter.set(peer.address, head)
  }

  /** Closing with INVALID_BLOCK makes the PeerManager count it against the peer. */
  private penalise(address: string, problem: string): void {
    this.logger.warn(
      { peer: address, reason: PEER_CLOSE_REASONS.INVALID_BLOCK, problem },
      'invalid block',
    )
    this.peers.get(address)?.outbound?.close(PEER_CLOSE_REASONS.INVALID_BLOCK, new Error(problem))
  }
}
