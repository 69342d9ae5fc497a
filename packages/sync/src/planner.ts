/**
 * Whom to sync from, decided without I/O or timers: peer claims, what we
 * remember about each peer, and the time come in; a target, or "wait until",
 * or "nothing to do" comes out. The engine feeds it and acts on the answer.
 */
import { comparePriority, maxPossibleHeight, type RoundClock } from '@chronos/codec'

/** What a peer's Status says about its chain. */
export interface Claim {
  readonly height: number
  /** The hash of its block at `height`; a Status may leave it out. */
  readonly head: string | undefined
}

export const sameClaim = (a: Claim, b: Claim): boolean => a.height === b.height && a.head === b.head

/**
 * A chain holds at most one block per round, so a height above the current
 * round + 1 cannot be served by anyone (PROTOCOL.md section 4). The session
 * refuses such a Status; sync still never acts on one that got through.
 */
export const isPossibleClaim = (claim: Claim, nowMs: number, clock: RoundClock): boolean =>
  claim.height <= maxPossibleHeight(nowMs, clock)

export interface PeerView {
  /** The peer's identity: its proven key, else its Status address (as PeerManager's `Peer.id`). */
  readonly id: string
  readonly claim: Claim
}

/** What the planner remembers about one peer. */
export interface PeerMemory {
  /** The latest claim seen, and when it was first seen (for the one-ahead grace). */
  readonly claim: Claim | undefined
  readonly since: number
  /** Gossip saw a block of this peer's whose parent we lack: check it whatever its claim says. */
  readonly hinted: boolean
  /**
   * A claim that was judged on its blocks and found not better or false
   * (invalid, too deep, not served): the peer is skipped until it claims
   * something else. Keyed by height and
   * head together, so a claim without a head is remembered too.
   */
  readonly rejected: Claim | undefined
  /** Not before this time: a block of a round that had not ended stopped the last sync. */
  readonly notBefore: number | undefined
  /**
   * A claim whose sync failed with the connection (a request timed out, the
   * session closed, nobody was left to serve a height), not on the peer's
   * blocks: it may well be true, so it is tried again at `retryAtMs`, with a
   * backoff that doubles per failure of the same claim. It never holds back
   * production again (`isBehind`): a peer that claims and never serves must
   * not stop us, however often we retry it.
   */
  readonly failed: FailedClaim | undefined
}

export interface FailedClaim {
  readonly claim: Claim
  /** Failures of this same claim in a row. */
  readonly attempts: number
  readonly retryAtMs: number
}

/** How long after a failed sync the same claim is tried again: doubling from `baseMs` up to `maxMs`. */
export interface RetryBackoff {
  readonly baseMs: number
  readonly maxMs: number
}

const blank: PeerMemory = {
  claim: undefined,
  since: 0,
  hinted: false,
  rejected: undefined,
  notBefore: undefined,
  failed: undefined,
}

/**
 * Per-peer planner memory. Keyed by peer id (a key or an address, either of
 * which a peer chooses for free), so it is bounded twice over: connected
 * peers' entries, the least recently touched going first past `maxPeers`;
 * and, once a peer disconnects, only what we judged of its claims (rejected,
 * failed), in a table of its own with the same bound. Kept apart, so that
 * identities that come, fail and go cannot push a connected peer's verdict
 * out (its claim would then hold back production once more).
 */
export class PlannerMemory {
  private readonly entries = new Map<string, PeerMemory>()
  private readonly departed = new Map<string, PeerMemory>()

  constructor(private readonly maxPeers = 1024) {}

  /** Connected peers remembered. */
  get size(): number {
    return this.entries.size
  }

  /** Disconnected peers whose verdicts are remembered. */
  get departedSize(): number {
    return this.departed.size
  }

  get(id: string): PeerMemory | undefined {
    return this.entries.get(id) ?? this.departed.get(id)
  }

  /** A Status arrived (or is looked at again): starts the grace clock when the claim is new. */
  observe(id: string, claim: Claim, nowMs: number): void {
    let entry = this.entries.get(id)
    const back = entry ? undefined : this.departed.get(id)
    if (back) {
      // Connected again: its verdicts come back with it.
      this.departed.delete(id)
      entry = back
    }
    if (!back && entry?.claim && sameClaim(entry.claim, claim)) return
    this.set(this.entries, id, { ...(entry ?? blank), claim, since: nowMs })
  }

  /** True while the peer still makes the claim we rejected. */
  isRejected(id: string, claim: Claim): boolean {
    const rejected = this.get(id)?.rejected
    return rejected !== undefined && sameClaim(rejected, claim)
  }

  /** True while the peer still makes a claim whose last sync failed with the connection. */
  hasFailed(id: string, claim: Claim): boolean {
    const failed = this.get(id)?.failed
    return failed !== undefined && sameClaim(failed.claim, claim)
  }

  hint(id: string): void {
    this.update(id, (entry) => ({ ...entry, hinted: true, rejected: undefined }))
  }

  /** A sync with the peer began: the hint that asked for it is served. */
  started(id: string): void {
    if (this.get(id)?.hinted) this.update(id, (entry) => ({ ...entry, hinted: false }))
  }

  reject(id: string, claim: Claim): void {
    this.update(id, (entry) => ({ ...entry, rejected: claim }))
  }

  /** A sync of this claim failed with the connection: try it again after the backoff. */
  fail(id: string, claim: Claim, nowMs: number, backoff: RetryBackoff): void {
    this.update(id, (entry) => {
      const attempts =
        entry.failed && sameClaim(entry.failed.claim, claim) ? entry.failed.attempts + 1 : 1
      const delayMs = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempts - 1, 30))
      return { ...entry, failed: { claim, attempts, retryAtMs: nowMs + delayMs } }
    })
  }

  defer(id: string, untilMs: number): void {
    this.update(id, (entry) => ({ ...entry, notBefore: untilMs }))
  }

  /**
   * The peer disconnected: what it claimed goes. What we judged of its claims
   * (rejected, failed) stays, so that reconnecting cannot have a claim looked
   * at afresh (nor hold back production for another request timeout), and a
   * failed claim's backoff keeps doubling.
   */
  forget(id: string): void {
    const entry = this.entries.get(id)
    if (!entry) return
    this.entries.delete(id)
    if (entry.rejected !== undefined || entry.failed !== undefined)
      this.set(this.departed, id, { ...blank, rejected: entry.rejected, failed: entry.failed })
  }

  /** Changes a peer's entry where it is: a verdict reached after the disconnect stays departed. */
  private update(id: string, change: (entry: PeerMemory) => PeerMemory): void {
    const departed = !this.entries.has(id) && this.departed.has(id)
    const table = departed ? this.departed : this.entries
    this.set(table, id, change(table.get(id) ?? blank))
  }

  private set(table: Map<string, PeerMemory>, id: string, entry: PeerMemory): void {
    table.delete(id)
    table.set(id, entry)
    if (table.size > this.maxPeers) {
      const oldest = table.keys().next().value as string
      table.delete(oldest)
    }
  }
}

export interface PlanInput {
  /** Our confirmed chain. */
  readonly ours: { readonly height: number; readonly head: string }
  /** Peers we can send requests to, with their latest claims. */
  readonly peers: readonly PeerView[]
  readonly memory: PlannerMemory
  readonly nowMs: number
  readonly clock: RoundClock
  /**
   * How long a peer may be exactly one block ahead before we sync from it:
   * at a round end peers confirm within milliseconds of each other, and the
   * first Status to arrive would otherwise start a one-block sync that races
   * our own confirmation.
   */
  readonly oneAheadGraceMs: number
}

export type Plan =
  /** Sync with this peer (its id), whose chain claims to be better than ours. */
  | { readonly kind: 'sync'; readonly peer: string; readonly claim: Claim }
  /** Nobody now, but a peer becomes a candidate at `untilMs`: plan again then. */
  | { readonly kind: 'wait'; readonly untilMs: number }
  /** Nobody claims a better chain. */
  | { readonly kind: 'idle' }

/**
 * The peer whose claim looks best, if it looks better than our chain. The
 * order between claims is only the order in which they are tried: whether a
 * chain is better is decided on its blocks, by the codec's fork choice.
 */
export function plan(input: PlanInput): Plan {
  const { ours, memory, nowMs } = input
  let best: PeerView | undefined
  /** The best claim whose sync failed before and is due again: tried only when no fresh one is. */
  let bestRetry: PeerView | undefined
  const better = (peer: PeerView, than: PeerView | undefined) =>
    !than ||
    peer.claim.height > than.claim.height ||
    (peer.claim.height === than.claim.height &&
      comparePriority(peer.claim.head ?? '', than.claim.head ?? '') < 0)
  let wakeAt: number | undefined
  const waitUntil = (at: number) => {
    wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at)
  }
  for (const peer of input.peers) {
    const { claim } = peer
    if (!isPossibleClaim(claim, nowMs, input.clock)) continue
    const remembered = memory.get(peer.id) ?? blank
    const hinted = remembered.hinted
    if (!hinted && memory.isRejected(peer.id, claim)) continue
    const retryAtMs = remembered.failed?.retryAtMs
    if (!hinted && memory.hasFailed(peer.id, claim) && nowMs < retryAtMs!) {
      waitUntil(retryAtMs!)
      continue
    }
    if (remembered.notBefore !== undefined && nowMs < remembered.notBefore) {
      waitUntil(remembered.notBefore)
      continue
    }
    const ahead = claim.height > ours.height
    const diverged =
      claim.height === ours.height && claim.head !== undefined && claim.head !== ours.head
    if (!ahead && !diverged && !hinted) continue
    if (ahead && !hinted && claim.height === ours.height + 1) {
      const since =
        remembered.claim && sameClaim(remembered.claim, claim) ? remembered.since : nowMs
      const graceEnds = since + input.oneAheadGraceMs
      if (nowMs < graceEnds) {
        waitUntil(graceEnds)
        continue
      }
    }
    if (!hinted && memory.hasFailed(peer.id, claim)) {
      if (better(peer, bestRetry)) bestRetry = peer
    } else if (better(peer, best)) best = peer
  }
  // A liar that claims the most and never serves must not push honest peers aside on every retry.
  best ??= bestRetry
  if (best) return { kind: 'sync', peer: best.id, claim: best.claim }
  if (wakeAt !== undefined) return { kind: 'wait', untilMs: wakeAt }
  return { kind: 'idle' }
}

/**
 * Whether a peer credibly claims a longer chain than ours: a possible
 * height, not a claim we already found not better or false, nor one whose
 * sync failed (it is retried, but never waited for again), and not a peer
 * whose next block is of a round that has not ended. A node that produces
 * asks this, so that no claim alone can stop production.
 */
export function isBehind(input: Omit<PlanInput, 'oneAheadGraceMs'>): boolean {
  const { ours, memory, nowMs } = input
  return input.peers.some(({ id, claim }) => {
    if (claim.height <= ours.height || !isPossibleClaim(claim, nowMs, input.clock)) return false
    if (memory.isRejected(id, claim) || memory.hasFailed(id, claim)) return false
    const notBefore = memory.get(id)?.notBefore
    return notBefore === undefined || nowMs >= notBefore
  })
}
