// Partition and heal over real TCP (issue 13, the soak's `agree-after-heal`): a permissioned
// network with identities, split into two groups that each keep producing their own chain,
// healed, and judged by the soak's own rule (invariants.ts `agreement`: heights within 1, the
// same block at the lowest height) within the soak's bound of 5 rounds. Every round it logs,
// per node, what it had: head height and hash, which fork its head is on, whether sync runs,
// its ready peers (and how many across the cut), and the event-loop delay of the round, so a
// failure says which node lacked what, and whether the process was starved.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Writable } from 'node:stream'
import {
  type Block,
  type BlockHeader,
  compareForks,
  createGenesis,
  generateNodeKey,
  type NodeKey,
  type RoundClock,
  roundOf,
  roundStart,
} from '@chronos/codec'
import type { DialState } from '@chronos/peer'
import { tcpTransport } from '@chronos/transport'
import { MemoryLevel } from 'memory-level'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { ChronosNode, resolveConfig } from '../src/index.js'
import { Switchboard, until } from './network.js'
import { agreement, type BlockSeen, type NodeRound } from './soak/invariants.js'

const ROUND_MS = 1500
const NODES = 8
/** Spread over the ring as the soak spreads them (floor(k * n / 4)): two on each side of the cut. */
const PRODUCERS = [0, 2, 4, 6]
const GROUPS = [
  [0, 1, 2, 3],
  [4, 5, 6, 7],
] as const
const PARTITION_ROUNDS = 6
/** The soak's bound (`healRounds`). */
const HEAL_ROUNDS = 5

const running: ChronosNode[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()))
})

/** Dial states of a node's PeerManager (private; read here for the log only). */
const dialsOf = (node: ChronosNode) =>
  (node.peers as unknown as { dials: Map<string, { current: DialState }> }).dials

function describeDials(node: ChronosNode, nowMs: number): string {
  const parts: string[] = []
  for (const [address, { current }] of dialsOf(node)) {
    const port = address.split(':').pop()
    if (current.state === 'backoff')
      parts.push(
        `${port} backoff#${current.attempts} in ${Math.round(current.retryAt - nowMs)}ms${current.banned ? ' BANNED' : ''}`,
      )
    else parts.push(`${port} ${current.state}`)
  }
  return parts.join(', ') || 'none'
}

const seen = (block: Block, clock: RoundClock): BlockSeen => ({
  height: block.block_header.height,
  hash: block.block_header.hash,
  prev: block.block_header.prev_hash,
  round: roundOf(block.block_header.timestamp, clock),
  wellFormed: true,
  producer: block.block_header.producer,
  sealed: undefined,
})

/** What one node had when sampled. */
interface Sample {
  height: number
  head: string
  fork: 'A' | 'B' | 'base' | '?'
  syncing: boolean
  ready: number
  across: number
}

/** How hard the process is starved: its event loop blocked `stallMs` out of every `periodMs`. */
interface Starvation {
  stallMs: number
  periodMs: number
}

/**
 * Emulates a starved process (the soak's nodes under a load of 25-35 got about 1 % of a core)
 * without burning a core on a shared machine: Atomics.wait blocks the event loop, asleep.
 * Every node of the test shares this loop, so all are starved alike, as the soak's were.
 */
function starve({ stallMs, periodMs }: Starvation): () => void {
  const cell = new Int32Array(new SharedArrayBuffer(4))
  const timer = setInterval(() => Atomics.wait(cell, 0, 0, stallMs), periodMs)
  return () => clearInterval(timer)
}

async function partitionAndHeal(starvation?: Starvation): Promise<void> {
  const keys: NodeKey[] = Array.from({ length: NODES }, () => generateNodeKey())
  const genesis = createGenesis({
    network: 'heal-test',
    roundMs: ROUND_MS,
    timestamp: Date.now() - ROUND_MS,
    producers: PRODUCERS.map((i) => keys[i]!.publicKey),
  })
  const clock: RoundClock = { roundMs: ROUND_MS, genesisTime: genesis.block_header.timestamp }
  const board = new Switchboard()
  const nodes: ChronosNode[] = []
  // Each node's warnings (sync failed, peer penalised, ...), kept once the heal began.
  let healAt: number | undefined
  const timeline = Array.from({ length: NODES }, () => [] as string[])
  const since = () => `${Date.now() - (healAt ?? 0)}ms`
  const warningsOf = (i: number) =>
    pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _encoding, done) {
          if (healAt !== undefined)
            for (const line of String(chunk).split('\n').filter(Boolean)) {
              const r = JSON.parse(line) as Record<string, unknown>
              timeline[i]!.push(
                `${since()} WARN ${r.msg} ${[r.reason, r.err, r.problem, r.peer].filter(Boolean).join(' ')}`,
              )
            }
          done()
        },
      }),
    )
  const groupOfKey = new Map<string, number>()
  for (const [g, members] of GROUPS.entries())
    for (const i of members) groupOfKey.set(keys[i]!.publicKey, g)
  for (let i = 0; i < NODES; i++) {
    // The soak's links (ring neighbour, +3, +5), towards nodes already listening.
    const peers = [1, 3, 5]
      .map((d) => i - d)
      .filter((j) => j >= 0)
      .map((j) => `${keys[j]!.publicKey}@${nodes[j]!.address}`)
    let self = ''
    const config = resolveConfig(
      {},
      {
        data: '(memory)',
        genesis: '(in memory)',
        listen: '127.0.0.1:0',
        peers,
        produce: PRODUCERS.includes(i),
        requireIdentity: true,
        txRate: 2,
        // The soak's limits, scaled to the round: redials at most half a round apart, status beats 4 a round.
        limits: {
          reconnectMaxMs: ROUND_MS / 2,
          statusIntervalMs: ROUND_MS / 4,
          fetchTimeoutMs: 300,
        },
      },
    )
    const node = await ChronosNode.open({
      config,
      genesis,
      logger: warningsOf(i),
      transport: board.wrap(tcpTransport(), () => self),
      db: new MemoryLevel({ valueEncoding: 'utf8' }),
      identity: keys[i],
    })
    await node.start()
    self = node.address
    running.push(node)
    nodes.push(node)
  }
  const addresses = nodes.map((n) => n.address)
  const groupOf = (i: number) => (GROUPS[0].includes(i as never) ? 0 : 1)
  await until(
    nodes,
    () => {
      const heights = nodes.map((n) => n.store.height())
      return Math.min(...heights) >= 3 && Math.max(...heights) - Math.min(...heights) <= 1
    },
    90_000,
    'all 8 nodes at height 3 or more, within 1 of each other',
  )
  const fed = starvation ? starve(starvation) : () => {}
  try {
    const waitRoundStart = (round: number) =>
      until(nodes, () => Date.now() >= roundStart(round, clock), 60_000, `round ${round}`)
    const current = () => roundOf(Date.now(), clock)

    // Cut at a round start: from here on each side confirms only its own producers' blocks.
    const cutRound = current() + 1
    await waitRoundStart(cutRound)
    const base = Math.min(...nodes.map((n) => n.store.height()))
    board.partition(
      GROUPS[0].map((i) => addresses[i]!),
      GROUPS[1].map((i) => addresses[i]!),
    )
    const healRound = cutRound + PARTITION_ROUNDS
    await waitRoundStart(healRound)

    // Both forks as they stand at the heal, from the highest node of each side.
    const forkOf = async (g: number): Promise<BlockHeader[]> => {
      const members = GROUPS[g]!.map((i) => nodes[i]!)
      const top = members.reduce((a, b) => (b.store.height() > a.store.height() ? b : a))
      const headers: BlockHeader[] = []
      for await (const block of top.store.blocks(base + 1)) headers.push(block.block_header)
      return headers
    }
    // Read until no head moved meanwhile: the forks are what each side holds at the heal.
    let forkA: BlockHeader[]
    let forkB: BlockHeader[]
    for (;;) {
      const before = nodes.map(headOf).join()
      ;[forkA, forkB] = [await forkOf(0), await forkOf(1)]
      if (nodes.map(headOf).join() === before) break
    }
    const network = nodes[0]!.store.params
    const aWins = compareForks(forkA, forkB, network) < 0
    const firstDiff = forkA.findIndex((h, k) => h.hash !== forkB[k]?.hash)
    const healedAt = Date.now()
    healAt = healedAt
    const dialsAtHeal = nodes.map((n, i) => `node ${i}: ${describeDials(n, healedAt)}`)
    // The redial that ends a partition waits on a backoff timer (nothing signals a heal): bounded
    // by reconnectMaxMs, however many dials failed during the partition.
    const waits = nodes.flatMap((n) =>
      [...dialsOf(n).values()].flatMap(({ current }) =>
        current.state === 'backoff' ? [current.retryAt - healedAt] : [],
      ),
    )

    // What happens to each node after the heal, in ms from it.
    const indexOf = (address: string) => addresses.indexOf(address)
    for (const [i, node] of nodes.entries()) {
      node.peers.on('ready', (peer) => {
        if (peer.key !== undefined && groupOfKey.get(peer.key) !== groupOf(i))
          timeline[i]!.push(`${since()} ready across`)
      })
      node.sync.on('done', (r) =>
        timeline[i]!.push(
          `${since()} sync from node ${indexOf(r.peer)}: ${r.applied ? `applied ${r.applied}${r.reorged ? ' (reorg)' : ''}` : 'not better'}, h${r.height}`,
        ),
      )
      node.gossip.on('held', (block, info) => {
        if (info.reason === 'ORPHAN')
          timeline[i]!.push(`${since()} orphan held h${block.block_header.height}`)
      })
    }
    // The moment every node first holds one head (events, not samples).
    let oneHeadMs: number | undefined
    const offs = nodes.map((n) =>
      n.store.onHead(() => {
        if (oneHeadMs === undefined && new Set(nodes.map(headOf)).size === 1)
          oneHeadMs = Date.now() - healedAt
      }),
    )
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    board.heal()

    const forkLabel = async (node: ChronosNode): Promise<Sample['fork']> => {
      if (firstDiff < 0) return 'base'
      const height = base + 1 + firstDiff
      if (node.store.height() < height) return 'base'
      const hash = (await node.store.getByHeight(height))?.block_header.hash
      return hash === forkA[firstDiff]?.hash ? 'A' : hash === forkB[firstDiff]?.hash ? 'B' : '?'
    }
    const lines: string[] = []
    let agreedAt: number | undefined
    for (let round = healRound; round <= healRound + HEAL_ROUNDS; round++) {
      // Sampled at 60 % of the round, as the soak looks.
      await until(
        nodes,
        () => Date.now() >= roundStart(round, clock) + 0.6 * ROUND_MS,
        60_000,
        `60 % of round ${round}`,
      )
      const samples: Sample[] = []
      const views: NodeRound[] = []
      for (const [i, node] of nodes.entries()) {
        const head = node.store.head()
        const ready = node.peers.readyPeers()
        samples.push({
          height: head.block_header.height,
          head: head.block_header.hash,
          fork: await forkLabel(node),
          syncing: node.sync.syncing,
          ready: ready.length,
          across: ready.filter((p) => p.key && groupOfKey.get(p.key) !== groupOf(i)).length,
        })
        const blocks = new Map<number, BlockSeen>()
        for await (const block of node.store.blocks(
          Math.max(0, head.block_header.height - 6),
          head.block_header.height,
        ))
          blocks.set(block.block_header.height, seen(block, clock))
        views.push({
          index: i,
          alive: true,
          upSince: 0,
          skewMs: 0,
          producer: PRODUCERS.includes(i),
          height: head.block_header.height,
          head: head.block_header.hash,
          blocks,
        })
      }
      const verdict = agreement({ round, nodes: views, partitioned: false })
      lines.push(
        `heal+${round - healRound} (loop delay max ${Math.round(delay.max / 1e6)} ms, mean ${Math.round(delay.mean / 1e6)} ms, round at ${Date.now() - roundStart(round, clock)} ms): ${
          verdict.agreed
            ? 'ONE CHAIN'
            : `apart: ${verdict.dissenters.map((d) => `node ${d.node}`).join(', ')}`
        }`,
        ...samples.map(
          (s, i) =>
            `  node ${i} [${'AB'[groupOf(i)]}] h${s.height} ${s.head.slice(0, 8)} fork ${s.fork}${s.syncing ? ' syncing' : ''} ready ${s.ready} (${s.across} across)`,
        ),
      )
      delay.reset()
      if (verdict.agreed) {
        agreedAt = round
        break
      }
    }
    delay.disable()
    for (const off of offs) off()
    const agreedMs = agreedAt === undefined ? undefined : Date.now() - healedAt
    const report = [
      `${starvation ? `starved: loop asleep ${starvation.stallMs} ms of every ${starvation.periodMs} ms` : 'not starved'}; agreed ${agreedMs === undefined ? 'never' : `${agreedMs} ms after the heal (sampled)`}, one head everywhere ${oneHeadMs ?? 'never'} ms after it; longest redial wait at the heal ${Math.round(Math.max(0, ...waits))} ms`,
      `partition at round ${cutRound} (height ${base}), heal at round ${healRound}; fork A ${forkA.length} blocks, fork B ${forkB.length}, first differing at height ${base + 1 + firstDiff}; ${aWins ? 'A' : 'B'} wins by chain order`,
      'dial states at the heal:',
      ...dialsAtHeal.map((l) => `  ${l}`),
      ...lines,
      'after the heal:',
      ...timeline.map((t, i) => `  node ${i}: ${t.join('; ') || '-'}`),
    ].join('\n')
    console.log(report)
    expect(Math.max(0, ...waits), 'redial waits at the heal').toBeLessThanOrEqual(ROUND_MS / 2)
    expect(forkA.length, 'side A produced during the partition').toBeGreaterThan(0)
    expect(forkB.length, 'side B produced during the partition').toBeGreaterThan(0)
    expect(firstDiff, 'the two sides hold different chains at the heal').toBeGreaterThanOrEqual(0)
    expect(agreedAt, `one chain within ${HEAL_ROUNDS} rounds of the heal\n${report}`).toBeDefined()
    // The chain they agree on is one side's (which, depends on the rounds after the heal too:
    // a side that sat a round out while it reorganised can lose a lead it had at the heal).
    const agreedOn = (await nodes[0]!.store.getByHeight(base + 1 + firstDiff))?.block_header.hash
    expect([forkA[firstDiff]!.hash, forkB[firstDiff]?.hash]).toContain(agreedOn)
  } finally {
    fed()
  }
}

/**
 * `HEAL_STARVE=100/200` (ms asleep / period) runs the same test starved, to measure how a heal
 * fares when the process gets half the time it asks for (docs/SOAK.md, Findings). The suite runs
 * it unstarved: under the shared machine's own load that is already the soak's conditions.
 */
function starvationFromEnv(): Starvation | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(process.env.HEAL_STARVE ?? '')
  return match ? { stallMs: Number(match[1]), periodMs: Number(match[2]) } : undefined
}

describe('a partition heals', () => {
  it(`8 permissioned nodes split 4|4 for ${PARTITION_ROUNDS} rounds, both sides producing: one chain within ${HEAL_ROUNDS} rounds of the heal, redials bounded`, async () => {
    await partitionAndHeal(starvationFromEnv())
  }, 180_000)
})

const headOf = (node: ChronosNode) => node.store.head().block_header.hash
