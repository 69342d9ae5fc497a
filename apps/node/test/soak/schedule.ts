// The fault schedule: drawn from a seed before the soak starts, printed, and
// replayed exactly by the same seed. Faults never overlap in kind on one
// node, and the last rounds are left quiet so the network can settle.

import { seededRandom } from '@chronos/codec'

export type Fault =
  | { round: number; kind: 'kill'; node: number; downRounds: number }
  | { round: number; kind: 'partition'; groups: [number[], number[]]; rounds: number }
  | { round: number; kind: 'skew'; node: number; offsetMs: number; rounds: number }
  | { round: number; kind: 'hostile'; node: number; attack: string }

export interface ScheduleOptions {
  seed: number
  nodes: number
  /** Rounds the soak lasts. */
  rounds: number
  /** Rounds at the start with no fault (the network forms). */
  warmup: number
  /** Rounds at the end with no fault (the network settles). */
  cooldown: number
  /** Largest clock skew, ms (either sign). */
  maxSkewMs: number
  /**
   * Largest slow clock, ms (default maxSkewMs). A node whose clock is more than about a
   * round slow refuses every honest peer as IMPOSSIBLE_HEIGHT (PROTOCOL.md section 4 has no
   * clock allowance): docs/SOAK.md, "Findings".
   */
  maxSlowMs?: number
  /** Names of the hostile attacks, each run at least once when the run is long enough. */
  attacks: readonly string[]
  /** Rounds between two hostile peers (their own track, beside the other faults). */
  hostileEvery: number
}

/**
 * Roughly one fault every 4 rounds: kills (down 1-3 rounds), partitions
 * (two groups, 4-10 rounds, then healed), one skewed clock at a time
 * (4-10 rounds). Beside them, on a track of their own, a hostile peer every
 * `hostileEvery` rounds against a drawn node, going through every attack in
 * a drawn order before any repeats (so a 2-minute run has them all).
 */
export function drawSchedule(options: ScheduleOptions): Fault[] {
  const next = seededRandom(options.seed)
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1))
  const faults: Fault[] = []
  const busyUntil = new Map<string, number>() // what -> round it is free again
  const free = (what: string, round: number) => (busyUntil.get(what) ?? 0) <= round
  const last = options.rounds - options.cooldown
  // One fault of each kind first (in a drawn order), so even a short run has them all.
  const kinds = (['kill', 'partition', 'skew'] as const).slice().sort(() => next() - 0.5)
  for (let round = options.warmup; round < last; round += int(2, 6)) {
    const kind = kinds.shift() ?? (['kill', 'partition', 'skew'] as const)[int(0, 2)]!
    const node = int(0, options.nodes - 1)
    if (kind === 'kill' && free(`node${node}`, round)) {
      const downRounds = int(1, 3)
      faults.push({ round, kind, node, downRounds })
      busyUntil.set(`node${node}`, round + downRounds + 3)
    } else if (kind === 'partition' && free('partition', round)) {
      const rounds = Math.min(int(4, 10), last - round - 1)
      if (rounds < 2) continue
      const shuffled = [...Array(options.nodes).keys()].sort(() => next() - 0.5)
      const cut = int(1, options.nodes - 1)
      const groups: [number[], number[]] = [
        shuffled.slice(0, cut).sort((a, b) => a - b),
        shuffled.slice(cut).sort((a, b) => a - b),
      ]
      faults.push({ round, kind, groups, rounds })
      // Heal, then 5 rounds to agree, before the next partition.
      busyUntil.set('partition', round + rounds + 6)
    } else if (kind === 'skew' && free('skew', round) && free(`node${node}`, round)) {
      const rounds = Math.min(int(4, 10), last - round - 1)
      if (rounds < 2) continue
      const magnitude = int(1000, options.maxSkewMs)
      const offsetMs =
        next() < 0.5 ? -Math.min(magnitude, options.maxSlowMs ?? options.maxSkewMs) : magnitude
      faults.push({ round, kind, node, offsetMs, rounds })
      busyUntil.set('skew', round + rounds + 3)
      busyUntil.set(`node${node}`, round + rounds + 3)
    }
  }
  let order: string[] = []
  for (let round = options.warmup; round < last; round += options.hostileEvery) {
    if (order.length === 0) order = [...options.attacks].sort(() => next() - 0.5)
    faults.push({ round, kind: 'hostile', node: int(0, options.nodes - 1), attack: order.shift()! })
  }
  return faults.sort((a, b) => a.round - b.round)
}

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'kill':
      return `round ${f.round}: SIGKILL node ${f.node}, restart after ${f.downRounds} round(s)`
    case 'partition':
      return `round ${f.round}: partition {${f.groups[0].join(',')}} | {${f.groups[1].join(',')}} for ${f.rounds} rounds, then heal`
    case 'skew':
      return `round ${f.round}: restart node ${f.node} with its clock ${f.offsetMs > 0 ? '+' : ''}${f.offsetMs} ms for ${f.rounds} rounds`
    case 'hostile':
      return `round ${f.round}: hostile peer against node ${f.node}: ${f.attack}`
  }
}
