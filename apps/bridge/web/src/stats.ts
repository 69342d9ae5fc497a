import { type BlockView, holdsBlock, type NodeView } from '../../src/protocol.ts'

/** The confirmed chain as the page knows it: one block per height (the latest confirmed), by height. */
export function confirmedChain(blocks: Iterable<BlockView>): BlockView[] {
  const byHeight = new Map<number, BlockView>()
  for (const b of blocks) {
    if (!b.confirmed || b.height === null) continue
    const other = byHeight.get(b.height)
    if (!other || b.firstSeen > other.firstSeen) byHeight.set(b.height, b)
  }
  return [...byHeight.values()].sort((a, b) => a.height! - b.height!)
}

/** Time between consecutive confirmed blocks (first sightings), per height. */
export function blockTimes(chain: readonly BlockView[]): { height: number; ms: number }[] {
  const out: { height: number; ms: number }[] = []
  for (let i = 1; i < chain.length; i++)
    if (chain[i]!.height === chain[i - 1]!.height! + 1)
      out.push({ height: chain[i]!.height!, ms: chain[i]!.firstSeen - chain[i - 1]!.firstSeen })
  return out
}

const mean = (xs: readonly number[]) =>
  xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null

export interface Summary {
  best: number | null
  lastBlockAt: number | null
  avgBlockMs: number | null
  avgPropagationMs: number | null
  up: number
  total: number
  pending: number | null
}

export function summarize(nodes: readonly NodeView[], chain: readonly BlockView[]): Summary {
  const recent = chain.slice(-20)
  const pending = nodes.filter((n) => n.up && n.pending !== null).map((n) => n.pending!)
  return {
    best: chain.at(-1)?.height ?? null,
    lastBlockAt: chain.at(-1)?.firstSeen ?? null,
    avgBlockMs: mean(blockTimes(recent).map((t) => t.ms)),
    avgPropagationMs: mean(recent.flatMap((b) => (b.t100 === null ? [] : [b.t100]))),
    up: nodes.filter((n) => n.up).length,
    total: nodes.length,
    pending: pending.length ? Math.max(...pending) : null,
  }
}

/** Fixed bins (so the axis never moves by itself): `count` of `width` ms, then one for the rest. */
export const HISTOGRAM_BIN_MS = 100
export const HISTOGRAM_BINS = 10

export function histogram(times: readonly number[]): number[] {
  const counts = new Array<number>(HISTOGRAM_BINS + 1).fill(0)
  for (const t of times) counts[Math.min(HISTOGRAM_BINS, Math.floor(t / HISTOGRAM_BIN_MS))]!++
  return counts
}

/** A block's first-seen CDF: for each node that holds it, ms after the first sighting and the share of nodes by then. */
export function cdf(block: BlockView, nodes: number): { ms: number; share: number }[] {
  const times = block.reach
    .filter((r) => holdsBlock(r.arrival))
    .map((r) => r.at - block.firstSeen)
    .sort((a, b) => a - b)
  const of = Math.max(nodes, times.length, 1)
  return times.map((ms, i) => ({ ms, share: (i + 1) / of }))
}
