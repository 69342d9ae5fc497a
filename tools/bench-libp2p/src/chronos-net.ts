// The Chronos side: one ChronosNode per graph vertex over real TCP on
// loopback, the lower index of each edge dialing (the other dials back, as
// nodes do). A block is injected at a producer as its own candidate at a
// round start; it spreads by the node's own gossip (whole to sqrt(m) peers,
// hash announcements to the rest).
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { type Block, createGenesis, roundOf, roundStart } from '@chronos/codec'
import { ChronosNode, resolveConfig } from '@chronos/node'
import { MemoryLevel } from 'memory-level'
import { pino } from 'pino'
import type { Graph } from './graph.js'
import { collectGarbage, type Span, type SpanReading, startSpan } from './meter.js'
import { bytesWritten } from './socket-bytes.js'

const silent = pino({ level: 'silent' })

export interface Delivery {
  /** ms from injection to first sight at each node that saw it (producer included). */
  seenMs: number[]
  dropped?: Record<string, number>
  /** Full-block copies received across all nodes (first copies included). */
  copies: number
  /** Hash announcements (Chronos NEW_BLOCK_HASH; gossipsub IHAVE entries) sent across all nodes. */
  announcements: number
  /** Bytes the stack's sockets wrote over the block's window (the same length for both stacks). */
  windowBytes: number
  /** How long that window was, ms. */
  windowMs: number
  /**
   * What this stack's process did from injection until the last node had
   * the block (NaN if one never did): wall, CPU, GC, event-loop use. On a
   * machine shared by many, wall time is partly the scheduler's share.
   */
  toAll: SpanReading
  /** CPU time of the process over the whole window, ms. */
  cpuMsWindow: number
  /** Connections the stack held when the block was injected (2 per edge when all are up). */
  connections: number
  /** gossipsub: mesh peers for the topic summed over the nodes at the publish. */
  meshPeers?: number
  /** Chronos: how much later than its planned time (round start + offset) the block was injected, ms. */
  injectedLateMs?: number
}

export interface ChronosNet {
  ports: Set<number>
  /** Ready peers per node. */
  readyPeers(): number[]
  /**
   * Builds the block `producer` will inject in the first round whose
   * injection time (round start + INJECT_OFFSET_MS) is at least `leadMs`
   * from now, on the current head; `run` waits for that time, injects it as
   * the producer's candidate, resolves when every node holds it or the
   * round ends, counts bytes over `windowMs` from the injection (longer
   * if the last node got it later), then waits for the round to be
   * confirmed.
   */
  prepare(
    producer: number,
    build: (parent: Block, timestamp: number, name: string) => Block,
    leadMs: number,
    windowMs: number,
  ): Promise<{ block: Block; run(): Promise<Delivery & { block: Block }> }>
  stop(): Promise<void>
}

/** A block is injected this long after its round starts (its timestamp). */
export const INJECT_OFFSET_MS = 100

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
        // The graph is the experiment: no dials to addresses learned by peer exchange.
        peerExchange: false,
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
  let announcements = 0
  const dropped = new Map<string, number>()
  let seen: Map<number, number> | undefined
  let current: string | undefined
  let injectedAt = 0
  let onSeen = () => {}
  nodes.forEach((node, i) => {
    // Every full copy put on a connection is one a peer receives (duplicates included): pushed
    // whole to sqrt(m) peers, or sent after an announcement was answered "wanted".
    node.gossip.on('sent', ({ hash, kind }) => {
      if (hash !== current) return
      if (kind === 'block') copies++
      else announcements++
    })
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
  const readyCounts = () => nodes.map((n) => n.peers.readyPeers().length)
  await until(
    () => nodes.every((n, i) => n.peers.readyPeers().length >= graph.neighbours[i]!.size),
    nodes.map((n) => (listener: () => void) => {
      n.peers.on('ready', listener)
      return () => n.peers.off('ready', listener)
    }),
    120_000,
    () => `every node ready with its ${graph.neighbours[0]!.size} peers (ready: ${readyCounts()})`,
  )
  const portSet = new Set(ports)
  return {
    ports: portSet,
    readyPeers: readyCounts,
    async prepare(producer, build, leadMs, windowMs) {
      // A node that missed the last block (late on a starved machine) catches up by sync; the
      // next block waits for that (re-checked at every head change), so every node starts it
      // from the same head.
      let parent = nodes[producer]!.store.head()
      const lagging = () => {
        parent = nodes[producer]!.store.head()
        return nodes.filter((n) => n.store.head().block_header.hash !== parent.block_header.hash)
      }
      await until(
        () => lagging().length === 0,
        nodes.map((n) => (listener: () => void) => n.store.onHead(listener)),
        20 * roundMs,
        () => `every node on the producer's head (${lagging().length} behind)`,
      )
      const blockFor = (round: number) => ({
        round,
        block: build(parent, roundStart(round, clock) + INJECT_OFFSET_MS, address(producer)),
      })
      /**
       * The first round whose injection time is at least `lead` ms away; with no lead, the
       * current one while it is young (building a 1 MB block can outlast the offset; injecting
       * a little late beats waiting a round).
       */
      const firstRound = (lead: number) => {
        const now = Date.now()
        const current = roundOf(now, clock)
        if (lead === 0 && now <= roundStart(current, clock) + roundMs / 8) return current
        const earliest = now + lead - INJECT_OFFSET_MS
        const round = roundOf(earliest, clock)
        return roundStart(round, clock) >= earliest ? round : round + 1
      }
      let planned = blockFor(firstRound(leadMs))
      return {
        block: planned.block,
        run: async () => {
          // Missed its round by more than a quarter (what ran in between took too long): the same
          // block one round later. Less late than that, it is injected at once.
          if (Date.now() > roundStart(planned.round, clock) + roundMs / 4)
            planned = blockFor(firstRound(0))
          const { round, block } = planned
          const plannedAt = roundStart(round, clock) + INJECT_OFFSET_MS
          collectGarbage()
          await sleep(plannedAt - Date.now())
          seen = new Map()
          copies = 0
          announcements = 0
          current = block.block_header.hash
          const connections = nodes.reduce((sum, n) => sum + n.peers.readyPeers().length, 0)
          const deadline = roundStart(round + 1, clock)
          let span!: Span
          const all = new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(0, deadline - Date.now() - 10))
            onSeen = () => {
              if (seen!.size < nodes.length) return
              span.end()
              clearTimeout(timer)
              resolve()
            }
          })
          const bytesBefore = bytesWritten(portSet)
          const cpuAtInjection = process.cpuUsage()
          const injectedLateMs = Math.max(0, Date.now() - plannedAt)
          span = startSpan()
          injectedAt = performance.now()
          await nodes[producer]!.gossip.receive(block, undefined)
          await all
          const seenMs = [...seen.values()]
          seen = undefined
          // The bytes window: `windowMs` from the injection (gossipsub's is as long), or until
          // just after the last node had it when that is later.
          const lastSeen = seenMs.length ? Math.max(...seenMs) : 0
          await sleep(Math.max(windowMs, lastSeen + 20) - (performance.now() - injectedAt))
          const windowBytes = bytesWritten(portSet) - bytesBefore
          const windowCopies = copies
          const windowAnnouncements = announcements
          const windowMsTaken = performance.now() - injectedAt
          const cpuMsWindow = cpuMsSince(cpuAtInjection)
          // Let the round end so every node confirms it before the next block.
          await sleep(deadline - Date.now() + 20)
          const result = {
            block,
            seenMs,
            copies: windowCopies,
            announcements: windowAnnouncements,
            windowBytes,
            windowMs: windowMsTaken,
            toAll: span.read(),
            cpuMsWindow,
            connections,
            injectedLateMs,
            dropped: Object.fromEntries(dropped),
          }
          dropped.clear()
          current = undefined
          return result
        },
      }
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
}

/** This process's CPU time (user + system, all threads) since `start`, ms. */
export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start)
  return (user + system) / 1000
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

/**
 * Resolves once `done()` holds, re-checking whenever one of the subscribed
 * events fires; rejects after `timeoutMs`, saying what it waited for.
 */
export function until(
  done: () => boolean,
  subscribe: ((listener: () => void) => () => void)[],
  timeoutMs: number,
  waitingFor: () => string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const offs: (() => void)[] = []
    const finish = (error?: Error) => {
      clearTimeout(timer)
      for (const off of offs) off()
      error ? reject(error) : resolve()
    }
    const timer = setTimeout(
      () => finish(new Error(`gave up after ${timeoutMs} ms waiting for ${waitingFor()}`)),
      timeoutMs,
    )
    const check = () => done() && finish()
    for (const on of subscribe) offs.push(on(check))
    check()
  })
}

/**
 * A port for a node whose address its peers must know before it listens.
 * Drawn below the kernel's ephemeral range and checked free: a port from
 * that range (listen on 0, close, reuse) can be taken in between as the
 * source port of any outgoing connection on the machine, the libp2p host's
 * 240 dials included (a run failed that way with EADDRINUSE).
 */
export async function freePort(random: () => number = Math.random): Promise<number> {
  const ephemeralLow = ephemeralRangeStart()
  const low = 10_000
  for (let attempt = 0; attempt < 200 && ephemeralLow > low + 1000; attempt++) {
    const port = low + Math.floor(random() * (ephemeralLow - low))
    if (taken.has(port)) continue
    if (await canListen(port)) {
      taken.add(port)
      return port
    }
  }
  throw new Error(`no free port found in ${low}-${ephemeralLow - 1}`)
}

/** Ports handed out by this process (two nets of one host must not share one). */
const taken = new Set<number>()

function ephemeralRangeStart(): number {
  try {
    return Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    )
  } catch {
    return 32_768
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
