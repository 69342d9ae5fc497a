// The soak's invariants, as data (after Lodestar's crucible assertions):
// each has a name, what it promises, and an `evaluate` run every round over
// what the soak observed; every verdict is counted, and every violation is
// kept with its round and node for the closing table.
import { type BlockRules, roundOf, verifyBlock, verifySeal } from '@chronos/codec'

export interface BlockSeen {
  height: number
  hash: string
  prev: string
  round: number
  /** verifyBlock's verdict on the network's rules. */
  wellFormed: true | string
  producer: string
  /** Its seal verifies against its producer's key (undefined: no seal). */
  sealed: boolean | undefined
}

/** One node as observed in one round. */
export interface NodeRound {
  index: number
  /** Process running and its API answered this round. */
  alive: boolean
  /** Round its current process started (undefined while down). */
  upSince: number | undefined
  /** Clock offset of its current process (0: none). */
  skewMs: number
  /** It runs --produce. */
  producer: boolean
  height?: number
  head?: string
  rssMb?: number
  /** Its confirmed blocks at the top of its chain, by height. */
  blocks: Map<number, BlockSeen>
}

export interface RoundRecord {
  round: number
  nodes: NodeRound[]
  /** A partition is in force during this round. */
  partitioned: boolean
  /** While partitioned: the group of each node. */
  groups?: number[]
}

export interface SoakState {
  records: RoundRecord[]
  /** Rounds at which a partition healed. */
  heals: number[]
  /** Heals already judged (agreed, or the deadline passed). */
  settledHeals: Set<number>
  /** Disk verifications done this round (after a kill, at the end). */
  diskChecks: { round: number; node: number; ok: boolean; detail: string }[]
  /** Hostile peers whose outcome became known this round. */
  hostile: { round: number; node: number; attack: string; ok: boolean; detail: string }[]
  /** Whether a node holds a block a hostile peer offered, asked a round after the attack. */
  offeredStored: { round: number; node: number; ok: boolean; detail: string }[]
  /** The genesis's producer keys (undefined: an open network). */
  producers: readonly string[] | undefined
  /** Blocks read from a store on disk (after a kill, at the end) whose producer is unlisted or seal fails. */
  diskSeals: { round: number; node: number; ok: boolean; detail: string }[]
  rssLimitMb: number
  /** Rounds after a heal within which all nodes must agree. */
  healRounds: number
  /** Rounds a node may take to confirm or sync a round's block. */
  syncLag: number
}

export interface Verdict {
  node?: number
  ok: boolean
  detail?: string
}

export interface Invariant {
  name: string
  promise: string
  evaluate(state: SoakState, round: number): Verdict[]
}

export interface Tally {
  invariant: Invariant
  checked: number
  held: number
  violations: { round: number; node?: number; detail?: string }[]
}

/**
 * Takes the entries of `list` that became known by `round` (and were not judged yet): rounds
 * the soak did not look at (it fell behind under load) still have theirs judged.
 */
function due<T extends { round: number }>(list: T[], round: number): T[] {
  const taken = list.filter((e) => e.round <= round)
  if (taken.length) list.splice(0, list.length, ...list.filter((e) => e.round > round))
  return taken
}

const record = (state: SoakState, round: number) => state.records.find((r) => r.round === round)

function majority<T>(values: T[]): T | undefined {
  const counts = new Map<T, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  let best: T | undefined
  let bestCount = 0
  for (const [v, c] of counts) if (c > bestCount) [best, bestCount] = [v, c]
  return best
}

/** Alive in every round of [from, to], one process throughout, clock never skewed. */
function steady(state: SoakState, node: number, from: number, to: number): boolean {
  for (let r = from; r <= to; r++) {
    const n = record(state, r)?.nodes[node]
    if (!n?.alive || n.upSince === undefined || n.upSince > from || n.skewMs !== 0) return false
  }
  return true
}

/** In every round of [from, to] looked at, an alive unskewed producer shared `node`'s side of any partition. */
function producerReachable(state: SoakState, node: number, from: number, to: number): boolean {
  return state.records
    .filter((r) => r.round >= from && r.round <= to)
    .every((r) =>
      r.nodes.some(
        (p) =>
          p.producer &&
          p.alive &&
          p.skewMs === 0 &&
          (r.groups === undefined || r.groups[p.index] === r.groups[node]),
      ),
    )
}

const partitionedDuring = (state: SoakState, from: number, to: number) =>
  state.records.some((r) => r.round >= from && r.round <= to && r.partitioned)

export function blockSeen(
  block: {
    block_header: { height: number; hash: string; prev_hash: string; timestamp: number }
  },
  rules: BlockRules,
): BlockSeen {
  const header = block.block_header as typeof block.block_header & { producer: string }
  const check = verifyBlock(block as never, rules)
  const seal = (block as { seal?: unknown }).seal
  return {
    producer: header.producer,
    sealed: seal === undefined ? undefined : verifySeal(block as never, rules.network.genesisHash),
    height: header.height,
    hash: header.hash,
    prev: header.prev_hash,
    round: roundOf(header.timestamp, {
      genesisTime: rules.network.genesisTime,
      roundMs: rules.network.roundMs,
    }),
    wellFormed: check.ok ? true : `${check.reason}: ${check.message}`,
  }
}

export const INVARIANTS: Invariant[] = [
  {
    name: 'chain-valid',
    promise:
      "every live node's confirmed chain is valid (top blocks well-formed, linked, head matches) and verifies on disk after a kill and at the end",
    evaluate(state, round) {
      const verdicts: Verdict[] = []
      for (const n of record(state, round)?.nodes ?? []) {
        // No snapshot (the head kept moving while it was read): nothing to judge this round.
        if (!n.alive || n.height === undefined || n.blocks.size === 0) continue
        const problems: string[] = []
        for (const b of n.blocks.values()) {
          if (b.wellFormed !== true) problems.push(`height ${b.height}: ${b.wellFormed}`)
          const parent = n.blocks.get(b.height - 1)
          if (parent && parent.hash !== b.prev)
            problems.push(`height ${b.height} does not link to ${b.height - 1}`)
        }
        const top = n.blocks.get(n.height)
        if (top && top.hash !== n.head)
          problems.push(`head ${n.head} is not block ${n.height} (${top.hash})`)
        verdicts.push({ node: n.index, ok: problems.length === 0, detail: problems.join('; ') })
      }
      for (const d of due(state.diskChecks, round))
        verdicts.push({ node: d.node, ok: d.ok, detail: `on disk: ${d.detail}` })
      return verdicts
    },
  },
  {
    name: 'agree-after-heal',
    promise:
      'within healRounds rounds of a heal, all live unskewed nodes hold one chain (heights within 1, same block at the lowest)',
    evaluate(state, round) {
      const verdicts: Verdict[] = []
      for (const healed of state.heals) {
        if (round < healed || state.settledHeals.has(healed)) continue
        const now = record(state, round)
        if (!now) continue
        const { agreed, dissenters } = agreement(now)
        if (agreed) {
          state.settledHeals.add(healed)
          verdicts.push({ ok: true })
        } else if (round >= healed + state.healRounds) {
          state.settledHeals.add(healed)
          for (const d of dissenters)
            verdicts.push({
              node: d.node,
              ok: false,
              detail: `healed at round ${healed}: ${d.detail}`,
            })
        }
      }
      return verdicts
    },
  },
  {
    name: 'heights-advance',
    promise: 'a node up for the last 5 rounds is higher than 5 rounds ago',
    evaluate(state, round) {
      const verdicts: Verdict[] = []
      // The latest round looked at 5-8 rounds ago (rounds may be skipped under load).
      const then = state.records.findLast((r) => r.round <= round - 5 && r.round >= round - 8)
      for (const n of record(state, round)?.nodes ?? []) {
        const before = then?.nodes[n.index]
        if (!then || !n.alive || n.upSince === undefined || n.upSince > then.round) continue
        if (!before?.alive || before.height === undefined || n.height === undefined) continue
        // No chain can grow where no producer is (a partition's side without one, the only
        // one killed or skewed): then there is nothing to promise.
        if (!producerReachable(state, n.index, then.round, round)) continue
        verdicts.push({
          node: n.index,
          ok: n.height > before.height,
          detail: `height ${n.height} at round ${round}, ${before.height} at round ${then.round} (head block of round ${n.blocks.get(n.height)?.round})`,
        })
      }
      return verdicts
    },
  },
  {
    name: 'confirmed-or-synced',
    promise:
      "a node up through a whole round (no skew, no partition near it) holds that round's block within syncLag rounds",
    evaluate(state, round) {
      const target = round - state.syncLag
      if (partitionedDuring(state, target - 1, round)) return []
      if (state.heals.some((h) => h > target - state.healRounds - 1 && h <= round)) return []
      const now = record(state, round)
      if (!now) return []
      const eligible = now.nodes.filter((n) => steady(state, n.index, target - 2, round))
      const blockOf = (n: NodeRound) => [...n.blocks.values()].find((b) => b.round === target)
      // The block most of them hold for that round; when most hold none, no block was
      // confirmed for it (no candidate, or it came too late), and there is nothing to hold.
      const reference = majority(eligible.map((n) => blockOf(n)?.hash ?? 'none'))
      if (reference === undefined || reference === 'none') return []
      return eligible.map((n) => {
        const own = blockOf(n)
        return {
          node: n.index,
          ok: own?.hash === reference,
          detail: own
            ? `holds ${own.hash.slice(0, 12)} for round ${target}, the others ${reference.slice(0, 12)}`
            : `lacks round ${target}'s block ${reference.slice(0, 12)} (height ${n.height})`,
        }
      })
    },
  },
  {
    name: 'rss-bounded',
    promise: 'every node process stays under the RSS limit',
    evaluate(state, round) {
      return (record(state, round)?.nodes ?? [])
        .filter((n) => n.rssMb !== undefined)
        .map((n) => ({
          node: n.index,
          ok: n.rssMb! <= state.rssLimitMb,
          detail: `${n.rssMb} MiB > ${state.rssLimitMb} MiB`,
        }))
    },
  },
  {
    name: 'sealed-by-listed',
    promise:
      'in a permissioned network, every block above genesis on any chain (live top blocks, whole stores on disk) names a listed producer and carries its valid seal',
    evaluate(state, round) {
      const listed = state.producers
      if (!listed) return []
      const verdicts: Verdict[] = []
      for (const n of record(state, round)?.nodes ?? []) {
        if (!n.alive || n.blocks.size === 0) continue
        const bad = [...n.blocks.values()]
          .filter((b) => b.height >= 1 && (!listed.includes(b.producer) || b.sealed !== true))
          .map(
            (b) =>
              `height ${b.height} by ${b.producer.slice(0, 12)} (${listed.includes(b.producer) ? 'listed' : 'unlisted'}, seal ${b.sealed === undefined ? 'missing' : b.sealed ? 'valid' : 'invalid'})`,
          )
        verdicts.push({ node: n.index, ok: bad.length === 0, detail: bad.join('; ') })
      }
      for (const d of due(state.diskSeals, round))
        verdicts.push({ node: d.node, ok: d.ok, detail: `on disk: ${d.detail}` })
      return verdicts
    },
  },
  {
    name: 'hostile-outcome',
    promise:
      'each hostile peer gets the outcome its case expects: the typed close reason read from the node log (or open and throttled, for floods)',
    evaluate(state, round) {
      return due(state.hostile, round).map((h) => ({
        node: h.node,
        ok: h.ok,
        detail: `${h.attack}: ${h.detail}`,
      }))
    },
  },
  {
    name: 'hostile-not-stored',
    promise: 'no node (target or any other) stores a block a hostile peer offered, a round after',
    evaluate(state, round) {
      return due(state.offeredStored, round).map((h) => ({
        node: h.node,
        ok: h.ok,
        detail: h.detail,
      }))
    },
  },
]

/** One chain among the live unskewed nodes of a round: heights within 1, same block at the lowest. */
export function agreement(r: RoundRecord): {
  agreed: boolean
  dissenters: { node: number; detail: string }[]
} {
  const live = r.nodes.filter((n) => n.alive && n.skewMs === 0 && n.height !== undefined)
  if (live.length === 0) return { agreed: true, dissenters: [] }
  const low = Math.min(...live.map((n) => n.height!))
  const reference = majority(live.map((n) => n.blocks.get(low)?.hash ?? 'unknown'))
  const dissenters = live
    .filter((n) => n.height! > low + 1 || n.blocks.get(low)?.hash !== reference)
    .map((n) => ({
      node: n.index,
      detail: `height ${n.height}, block ${low} ${n.blocks.get(low)?.hash.slice(0, 12) ?? 'unknown'} vs ${reference?.slice(0, 12)}`,
    }))
  return { agreed: dissenters.length === 0, dissenters }
}

export function tally(): Tally[] {
  return INVARIANTS.map((invariant) => ({ invariant, checked: 0, held: 0, violations: [] }))
}

export function evaluateRound(tallies: Tally[], state: SoakState, round: number): Verdict[] {
  const failed: Verdict[] = []
  for (const t of tallies)
    for (const v of t.invariant.evaluate(state, round)) {
      t.checked++
      if (v.ok) t.held++
      else {
        t.violations.push({ round, node: v.node, detail: v.detail })
        failed.push({ ...v, detail: `${t.invariant.name}: ${v.detail}` })
      }
    }
  return failed
}

export function formatTallies(tallies: Tally[]): string {
  const lines = ['invariant            checked     held  violations']
  for (const t of tallies) {
    lines.push(
      `${t.invariant.name.padEnd(20)} ${String(t.checked).padStart(7)}  ${String(t.held).padStart(7)}  ${t.violations.length}`,
    )
  }
  for (const t of tallies) {
    if (t.violations.length === 0) continue
    lines.push('', `${t.invariant.name}: ${t.invariant.promise}`)
    for (const v of t.violations.slice(0, 25))
      lines.push(`  round ${v.round}${v.node === undefined ? '' : ` node ${v.node}`}: ${v.detail}`)
    if (t.violations.length > 25) lines.push(`  ... ${t.violations.length - 25} more`)
  }
  return lines.join('\n')
}
