// Ad-hoc: where the full blocks of a gossip run go (issue 17). One virtual-time run
// (N nodes, B blocks; same parameters as the benchmark), every measured block
// followed at every node: each NEW_BLOCK that arrived, whether it was pushed or
// answered a GET_BLOCK and whether the node held the block already; each
// NEW_BLOCK_HASH answer, and what the node knew when it chose GET_BLOCK. Counts
// are per node per block.
//
//   N=200 B=15 node --import tsx --conditions=@chronos/source bench/propagation-trace.ts
import type { Block } from '@chronos/codec'
import type { Peer } from '@chronos/peer'
import type { ChronosNode } from '../src/index.js'
import { runPropagation } from './propagation.js'

const nodes = Number(process.env.N ?? 200)
const blocks = Number(process.env.B ?? 15)

/** What one node saw of one block. */
interface Seen {
  heldAt?: number
  /** Full blocks on their way here: sender index -> send time. */
  inFlight: Map<number, number>
  /** Peers this node answered GET_BLOCK and has not had the block from yet. */
  asked: Set<number>
}

const counts = new Map<string, number>()
const bump = (key: string, by = 1) => counts.set(key, (counts.get(key) ?? 0) + by)
const holdDelays: number[] = []
/** Full blocks sent per measured block, in production order. */
const perBlock = new Map<string, number>()

let measuring = false
const measured = new Set<string>()
const state = new Map<string, Seen>()
const seenAt = (node: number, hash: string): Seen => {
  const key = `${node} ${hash}`
  let seen = state.get(key)
  if (!seen) {
    seen = { inFlight: new Map(), asked: new Set() }
    state.set(key, seen)
  }
  return seen
}
/** Hashes a sender announced to a receiver: a later block between them answers a GET_BLOCK. */
const announcedTo = new Set<string>()

type Hook = Record<string, (...args: never[]) => unknown>

/** (node, hash) pairs that relayed. */
const broadcasts = new Set<string>()
/** Mean relay peers per node when the measured part began. */
let degree = 0
/** Node index by its address (known once the nodes listen). */
const index = new Map<string, number>()

function observe(all: readonly ChronosNode[], phase: 'opened' | 'measuring'): void {
  if (phase === 'measuring') {
    for (const [i, node] of all.entries()) index.set(node.address, i)
    const degrees = all.map((node) => node.peers.relayPeers().length)
    degree = degrees.reduce((a, b) => a + b, 0) / degrees.length
    measuring = true
    return
  }
  const indexOf = (peer: Peer | undefined) =>
    peer === undefined ? -1 : (index.get(peer.address) ?? -1)
  all.forEach((node, i) => {
    const gossip = node.gossip
    if (i === 0)
      gossip.on('produced', (block) => {
        if (measuring) measured.add(block.block_header.hash)
      })
    gossip.on('candidate', (block) => {
      const seen = seenAt(i, block.block_header.hash)
      seen.heldAt ??= performance.now()
    })
    gossip.on('sent', ({ to, hash, kind }) => {
      if (!measured.has(hash)) return
      const j = index.get(to)
      if (j === undefined) {
        bump(`sent.unknown-address ${to}`)
        return
      }
      const link = `${i} ${j} ${hash}`
      if (kind === 'hash') {
        announcedTo.add(link)
        return
      }
      seenAt(j, hash).inFlight.set(i, performance.now())
      perBlock.set(hash, (perBlock.get(hash) ?? 0) + 1)
      bump(announcedTo.has(link) ? 'sent.answer' : 'sent.push')
    })
    // The engine's private steps, wrapped per instance: its handlers call them through `this`.
    const engine = gossip as unknown as Hook
    const screen = engine.screen!.bind(gossip) as (
      header: Block['block_header'],
      from?: Peer,
    ) => string
    engine.screen = ((header: Block['block_header'], from?: Peer) => {
      const hash = header.hash
      if (measured.has(hash)) {
        const j = indexOf(from)
        const seen = seenAt(i, hash)
        const kind = announcedTo.has(`${j} ${i} ${hash}`) ? 'answer' : 'push'
        bump(`recv.${kind}`)
        if (seen.heldAt !== undefined) bump(`recv.${kind}.already-held`)
        else if ([...seen.inFlight.keys()].some((k) => k !== j))
          bump(`recv.${kind}.other-in-flight`)
        seen.inFlight.delete(j)
        seen.asked.delete(j)
      }
      return screen(header, from)
    }) as never
    const broadcast = engine.broadcast!.bind(gossip) as (block: Block) => void
    engine.broadcast = ((block: Block) => {
      const hash = block.block_header.hash
      if (measured.has(hash)) {
        const relay = node.peers.relayPeers()
        const lacking = relay.filter((peer) => !peer.known.has(hash)).length
        const key = `${i} ${hash}`
        bump(broadcasts.has(key) ? 'relay.again' : 'relay')
        broadcasts.add(key)
        bump('relay.peers', relay.length)
        bump('relay.lacking', lacking)
        bump('relay.full', lacking === 0 ? 0 : Math.max(1, Math.floor(Math.sqrt(lacking))))
      }
      broadcast(block)
    }) as never
    const announced = engine.announced!.bind(gossip) as (
      hash: string,
      from?: Peer,
    ) => Promise<'known' | 'wanted'>
    engine.announced = (async (hash: string, from?: Peer) => {
      if (!measured.has(hash)) return announced(hash, from)
      const j = indexOf(from)
      const seen = seenAt(i, hash)
      const heldBefore = seen.heldAt !== undefined
      bump('hash.received')
      if (heldBefore) bump('hash.received.already-held')
      const start = performance.now()
      const answer = await announced(hash, from)
      const waited = performance.now() - start
      bump(`answer.${answer}`)
      if (waited > 0) {
        bump(`answer.${answer}.after-hold`)
        holdDelays.push(waited)
      }
      if (answer === 'wanted') {
        if (seen.heldAt !== undefined) bump('wanted.already-held')
        else if (seen.inFlight.size > 0) bump('wanted.block-in-flight')
        else if (seen.asked.size > 0) bump('wanted.already-asked-another')
        else bump('wanted.first')
        seen.asked.add(j)
      }
      return answer
    }) as never
  })
}

const result = await runPropagation({
  nodes,
  dials: 4,
  blocks,
  transactions: 200,
  roundMs: 1500,
  latencyMs: 50,
  jitterMs: 10,
  bandwidthBytesPerSecond: 12_500_000,
  seed: Number(process.env.SEED ?? 7),
  flood: false,
  observe,
})

const per = measured.size * nodes
const m = result.model.detail
console.log(
  `spec model per node: pushed ${m.pushedPerNode.toFixed(3)} (already held ${m.redundantPushedPerNode.toFixed(3)}), answered ${m.answeredPerNode.toFixed(3)} (already held ${m.redundantAnsweredPerNode.toFixed(3)})`,
)
console.log(
  `relay peers per node at the start: ${degree.toFixed(2)}, in the link graph: ${result.linkDegree.toFixed(2)}, at each block (mean): ${result.relayDegree.toFixed(2)}`,
)
console.log(
  `${nodes} nodes, ${measured.size} blocks: full blocks per node ${(result.fullBlockDeliveries / nodes).toFixed(3)} (spec model ${(result.model.fullBlockDeliveries / nodes).toFixed(3)})`,
)
for (const [key, value] of [...counts].sort(([a], [b]) => a.localeCompare(b)))
  console.log(`  ${key.padEnd(36)} ${(value / per).toFixed(3)}  (${value})`)
if (holdDelays.length) {
  holdDelays.sort((a, b) => a - b)
  const q = (x: number) =>
    holdDelays[Math.min(holdDelays.length - 1, Math.floor(x * holdDelays.length))]
  console.log(
    `  answers that waited: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${holdDelays.at(-1)} ms`,
  )
}
console.log(
  `  full blocks per node, block by block: ${[...perBlock.values()].map((n) => (n / nodes).toFixed(2)).join(' ')}`,
)
const toAll = result.reach.map((r) => r.p100).sort((a, b) => a - b)
const modelToAll = [...result.model.timeToAll].sort((a, b) => a - b)
console.log(
  `  p50 time to all ${toAll[Math.floor(toAll.length / 2)]} ms, spec model ${modelToAll[Math.floor(modelToAll.length / 2)]?.toFixed(0)} ms, ideal ${result.idealMs.toFixed(0)} ms`,
)
