// The Chronos side: one ChronosNode per graph vertex over real TCP on
// loopback, the lower index of each edge dialing (the other dials back, as
// nodes do). A block is injected at a producer as its own candidate at a
// round start; it spreads by the node's own gossip (whole to sqrt(m) peers,
// hash announcements to the rest).
import { createServer } from 'node:net'
import { type Block, createGenesis, roundOf, roundStart } from '@chronos/codec'
import { ChronosNode, resolveConfig } from '@chronos/node'
import { MemoryLevel } from 'memory-level'
import { pino } from 'pino'
import type { Graph } from './graph.js'

const silent = pino({ level: 'silent' })

export interface Delivery {
  /** ms from injection to first sight at each node that saw it (producer included). */
  seenMs: number[]
  dropped?: Record<string, number>
  /** Full-block copies received across all nodes (first copies included). */
  copies: number
}

export interface ChronosNet {
  ports: Set<number>
  /**
   * Builds the block `producer` will inject `roundsAhead` rounds from now
   * (on the current head); `run` waits for that round, injects it as the
   * producer's candidate and resolves when every node holds it or the round
   * ends, then waits for the round to be confirmed.
   */
  prepare(
    producer: number,
    build: (parent: Block, timestamp: number, name: string) => Block,
    roundsAhead?: number,
  ): Promise<{ block: Block; run(): Promise<Delivery & { block: Block }> }>
  stop(): Promise<void>
}

export async function startChronosNet(graph: Graph, roundMs: number): Promise<ChronosNet> {
  const ports = await Promise.all(Array.from({ length: graph.nodes }, () => freePort()))
  const address = (i: number) => `127.0.0.1:${ports[i]}`
  const genesis = createGenesis({ network: 'bench-libp2p', roundMs, timestamp: Date.now() })
  const nodes: ChronosNode[] = []
  for (let i = 0; i < graph.nodes; i++) {
    const dials = graph.edges.filter(([a]) => a === i).map(([, b]) => address(b))
    const config = resolveConfig(
      {},
      {
        data: '(memory)',
        genesis: '(memory)',
        listen: address(i),
        peers: dials,
        limits: { idleTimeoutMs: 0, statusIntervalMs: 2000 },
      },
    )
    nodes.push(
      await ChronosNode.open({
        config,
        genesis,
        logger: silent,
        db: new MemoryLevel({ valueEncoding: 'utf8' }),
      }),
    )
  }
  let copies = 0
  const dropped = new Map<string, number>()
  let seen: Map<number, number> | undefined
  let current: string | undefined
  let injectedAt = 0
  let onSeen = () => {}
  nodes.forEach((node, i) => {
    const handlers = node.gossip.handlers
    const newBlock = handlers.newBlock
    handlers.newBlock = (block, session) => {
      if (block.block_header.hash === current) copies++
      newBlock(block, session)
    }
    node.gossip.on('dropped', (block, { reason }) => {
      if (block.block_header.hash === current) dropped.set(reason, (dropped.get(reason) ?? 0) + 1)
    })
    node.gossip.on('candidate', (block) => {
      if (block.block_header.hash !== current || !seen || seen.has(i)) return
      seen.set(i, performance.now() - injectedAt)
      onSeen()
    })
  })
  const clock = nodes[0]!.store.params
  for (const node of nodes) await node.start()
  await until(
    () => nodes.every((n, i) => n.peers.readyPeers().length >= graph.neighbours[i]!.size),
    nodes.map((n) => (listener: () => void) => {
      n.peers.on('ready', listener)
      return () => n.peers.off('ready', listener)
    }),
  )
  return {
    ports: new Set(ports),
    async prepare(producer, build, roundsAhead = 2) {
      // A node that missed the last block (late on a starved machine) catches up by sync; the
      // next block waits for that, so every node starts it from the same head.
      const deadline = Date.now() + 20 * roundMs
      let parent = nodes[producer]!.store.head()
      const lagging = () => {
        parent = nodes[producer]!.store.head()
        return nodes.filter((n) => n.store.head().block_header.hash !== parent.block_header.hash)
      }
      while (lagging().length > 0) {
        if (Date.now() > deadline)
          throw new Error(`${lagging().length} nodes did not reach the producer's head`)
        await sleep(100)
      }
      const offset = Math.min(50, roundMs / 20)
      const blockFor = (round: number) => ({
        round,
        block: build(parent, roundStart(round, clock) + offset, address(producer)),
      })
      let planned = blockFor(roundOf(Date.now(), clock) + roundsAhead)
      return {
        block: planned.block,
        run: async () => {
          // Missed its round (what ran in between took too long): the same block one round later.
          if (Date.now() > roundStart(planned.round, clock) + roundMs / 4)
            planned = blockFor(roundOf(Date.now(), clock) + 1)
          const { round, block } = planned
          await sleep(roundStart(round, clock) + offset - Date.now())
          seen = new Map()
          copies = 0
          current = block.block_header.hash
          const deadline = roundStart(round + 1, clock)
          const all = new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(0, deadline - Date.now() - 10))
            onSeen = () => {
              if (seen!.size < nodes.length) return
              clearTimeout(timer)
              resolve()
            }
          })
          injectedAt = performance.now()
          await nodes[producer]!.gossip.receive(block, undefined)
          await all
          const result = {
            block,
            seenMs: [...seen.values()],
            copies,
            dropped: Object.fromEntries(dropped),
          }
          dropped.clear()
          seen = undefined
          // Let the round end so every node confirms it before the next block.
          await sleep(deadline - Date.now() + 20)
          return result
        },
      }
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

/** Resolves once `done()` holds, re-checking whenever one of the subscribed events fires. */
function until(
  done: () => boolean,
  subscribe: ((listener: () => void) => () => void)[],
): Promise<void> {
  return new Promise((resolve) => {
    const offs: (() => void)[] = []
    const check = () => {
      if (!done()) return
      for (const off of offs) off()
      resolve()
    }
    for (const on of subscribe) offs.push(on(check))
    check()
  })
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}
