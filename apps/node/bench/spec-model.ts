// What the broadcast rule of PROTOCOL.md section 9 can achieve at best on a
// given topology: a discrete-event model with free CPU, no queues besides
// the links, and every node relaying the moment a block arrives. NEW_BLOCK
// goes to max(1, floor(sqrt(m))) random peers among the m that lack it,
// NEW_BLOCK_HASH to the rest; an announced block costs three one-way trips
// (hash, GET_BLOCK, NEW_BLOCK). The benchmark compares the real nodes with
// this model on the same link graph, which separates what the protocol
// costs from what our implementation adds.

import { seededRandom } from '@chronos/codec'

/** Node index → the peers it relays to. Node 0 produces. */
export type RelayGraph = ReadonlyMap<number, ReadonlySet<number>>

export interface SpecModelParams {
  /**
   * One graph per block: the peers each node relayed to when that block was
   * produced. Peer exchange (section 13) adds connections as a run goes on,
   * so the graph the nodes were told to build is only the first one.
   */
  graphs: readonly RelayGraph[]
  /** One-way delay is latencyMs + uniform [0, jitterMs), as in the in-memory transport. */
  latencyMs: number
  jitterMs: number
  /** Time to put one full block on a link, ms. */
  blockSerializationMs: number
  seed: number
}

export interface SpecModelResult {
  /** Per block: ms until the last node holds it. */
  timeToAll: number[]
  /** Full-block deliveries per node per block. */
  fullBlocksPerNode: number
  /** Of those: pushed (NEW_BLOCK unasked) and answering a GET_BLOCK. */
  pushedPerNode: number
  answeredPerNode: number
  /** Deliveries to a node that already held the block, pushed and answered. */
  redundantPushedPerNode: number
  redundantAnsweredPerNode: number
}

type Kind = 'block' | 'answer' | 'hash' | 'get'
interface Delivery {
  at: number
  kind: Kind
  from: number
  to: number
}

export function runSpecModel(p: SpecModelParams): SpecModelResult {
  // A fixed, seedable stream, independent of Math.random.
  const random = seededRandom(p.seed)
  const nodes = p.graphs[0]?.size ?? 0
  const timeToAll: number[] = []
  let fullBlocks = 0
  const tally = { pushed: 0, answered: 0, redundantPushed: 0, redundantAnswered: 0 }
  for (const links of p.graphs) {
    const queue = new MinQueue<Delivery>((x, y) => x.at - y.at)
    const heldAt = new Map<number, number>()
    const asked = new Set<number>()
    // knownBy[i]: the peers node i knows to have the block.
    const knownBy = Array.from({ length: nodes }, () => new Set<number>())
    const send = (at: number, kind: Kind, from: number, to: number) => {
      const wire = kind === 'block' || kind === 'answer' ? p.blockSerializationMs : 0
      queue.push({ at: at + p.latencyMs + random() * p.jitterMs + wire, kind, from, to })
    }
    const hold = (node: number, at: number) => {
      heldAt.set(node, at)
      const targets = [...(links.get(node) ?? [])].filter((peer) => !knownBy[node]!.has(peer))
      const full = targets.length === 0 ? 0 : Math.max(1, Math.floor(Math.sqrt(targets.length)))
      for (let i = 0; i < targets.length; i++) {
        const j = i + Math.floor(random() * (targets.length - i))
        ;[targets[i], targets[j]] = [targets[j]!, targets[i]!]
        knownBy[node]!.add(targets[i]!)
        send(at, i < full ? 'block' : 'hash', node, targets[i]!)
      }
    }
    hold(0, 0)
    for (let d = queue.pop(); d; d = queue.pop()) {
      if (d.kind === 'get') {
        send(d.at, 'answer', d.to, d.from)
        continue
      }
      knownBy[d.to]!.add(d.from)
      if (d.kind === 'block' || d.kind === 'answer') {
        fullBlocks++
        const pushed = d.kind === 'block'
        tally[pushed ? 'pushed' : 'answered']++
        if (heldAt.has(d.to)) tally[pushed ? 'redundantPushed' : 'redundantAnswered']++
        else hold(d.to, d.at)
      } else if (!heldAt.has(d.to) && !asked.has(d.to)) {
        asked.add(d.to)
        send(d.at, 'get', d.to, d.from)
      }
    }
    timeToAll.push(Math.max(...heldAt.values()))
  }
  const per = p.graphs.length * nodes
  return {
    timeToAll,
    fullBlocksPerNode: fullBlocks / per,
    pushedPerNode: tally.pushed / per,
    answeredPerNode: tally.answered / per,
    redundantPushedPerNode: tally.redundantPushed / per,
    redundantAnsweredPerNode: tally.redundantAnswered / per,
  }
}

/** A binary heap: the model pops tens of thousands of deliveries per run. */
class MinQueue<T> {
  private readonly items: T[] = []
  constructor(private readonly before: (a: T, b: T) => number) {}

  push(item: T): void {
    const items = this.items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.before(items[i]!, items[parent]!) >= 0) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  pop(): T | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length === 0 || last === undefined) return top
    items[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let least = i
      if (left < items.length && this.before(items[left]!, items[least]!) < 0) least = left
      if (right < items.length && this.before(items[right]!, items[least]!) < 0) least = right
      if (least === i) return top
      ;[items[i], items[least]] = [items[least]!, items[i]!]
      i = least
    }
  }
}
