// The js-libp2p side: one libp2p node per graph vertex (TCP, noise, yamux,
// identify, gossipsub 14 with its defaults: D=6, StrictSign, floodPublish),
// the lower index of each edge dialing. A block is the same NEW_BLOCK bytes
// Chronos sends, published on one topic; every node runs the same codec
// check Chronos runs (schema, header hash, tx_root) as a topic validator,
// as an application on gossipsub must before forwarding a block.
// Blocks are measured only once every node's mesh for the topic holds at
// least D_lo peers, awaited on gossipsub's heartbeat (when the mesh changes).
import { type GossipSub, gossipsub } from '@chainsafe/libp2p-gossipsub'
import { checkWellFormed, decodeMessage } from '@chronos/codec'
import { identify } from '@libp2p/identify'
import { TopicValidatorResult } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'
import type { Delivery } from './chronos-net.js'
import { cpuMsSince, until } from './chronos-net.js'
import type { Graph } from './graph.js'
import { libp2pBase } from './libp2p-options.js'
import { collectGarbage, type Span, startSpan } from './meter.js'
import { bytesWritten } from './socket-bytes.js'

export const TOPIC = 'chronos-bench/blocks'

type GossipNode = Awaited<ReturnType<typeof createNode>>

/** What the benchmark reads of an RPC gossipsub sends (its private `sendRpc`). */
interface SentRpc {
  messages: { topic?: string; data?: Uint8Array }[]
  control?: { ihave?: { topicID?: string; messageIDs: Uint8Array[] }[] }
}

async function createNode() {
  return createLibp2p({
    ...libp2pBase(),
    services: {
      // Under load an identify exchange can pass its 5 s default, and gossipsub only
      // learns a peer speaks it through identify.
      identify: identify({ timeout: 60_000 }),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: false }),
    },
  })
}

/** gossipsub's D_lo default: below it a node grafts more peers at its next heartbeat. */
export const D_LO = 4
/** gossipsub's default heartbeat interval. */
const HEARTBEAT_MS = 1000

export interface MeshState {
  /** Whether every node's mesh reached D_lo before the deadline. */
  formed: boolean
  /** Mesh peers per node for the topic, when it formed or when the deadline passed. */
  sizes: number[]
  waitedMs: number
}

export interface Libp2pNet {
  ports: Set<number>
  mesh: MeshState
  /**
   * Publishes `bytes` at `producer`; waits until every node delivered it or
   * `deadlineMs` passed. The bytes window is `windowMs` from the publish, or
   * up to one heartbeat past the last delivery when that is later (gossipsub
   * has no rounds: a block late by Chronos's clock is still delivered).
   */
  propagate(
    producer: number,
    bytes: Uint8Array,
    windowMs: number,
    deadlineMs: number,
  ): Promise<Delivery>
  meshSizes(): number[]
  /** Connections closed since the net was up, over all nodes. */
  disconnects(): number
  /** Publishes that failed, with why. */
  failures: string[]
  stop(): Promise<void>
}

export async function startLibp2pNet(graph: Graph, meshDeadlineMs = 120_000): Promise<Libp2pNet> {
  const nodes: GossipNode[] = []
  for (let i = 0; i < graph.nodes; i++) nodes.push(await createNode())
  const ports = new Set(
    nodes.map((n) => Number(n.getMultiaddrs()[0]!.toString().split('/tcp/')[1]!.split('/')[0])),
  )
  let copies = 0
  let announcements = 0
  let disconnects = 0
  const failures: string[] = []
  let seen: Map<number, number> | undefined
  /** The block being propagated, while its window lasts. */
  let current: Buffer | undefined
  let publishedAt = 0
  let onSeen = () => {}
  nodes.forEach((node, i) => {
    const pubsub = node.services.pubsub as GossipSub
    pubsub.topicValidators.set(TOPIC, (_peer, message) => {
      const decoded = decodeMessage(message.data)
      return decoded.code === 'NEW_BLOCK' && checkWellFormed(decoded.data).ok
        ? TopicValidatorResult.Accept
        : TopicValidatorResult.Reject
    })
    // Every full copy of the current block put on a connection (duplicates included), and every
    // IHAVE entry for it (gossipsub's hash announcement): counted where gossipsub sends, as for
    // Chronos, so a copy still in flight when the window ends counts with the bytes it cost.
    // Matched by content, so a late copy of an earlier block is not counted for this one.
    const internals = pubsub as unknown as { sendRpc(id: string, rpc: SentRpc): boolean }
    const sendRpc = internals.sendRpc.bind(pubsub)
    internals.sendRpc = (id, rpc) => {
      const sent = sendRpc(id, rpc)
      if (sent && current) {
        for (const message of rpc.messages ?? [])
          if (message.topic === TOPIC && message.data && current.equals(message.data)) copies++
        for (const ihave of rpc.control?.ihave ?? [])
          if (ihave.topicID === TOPIC) announcements += ihave.messageIDs.length
      }
      return sent
    }
    pubsub.addEventListener('message', (event) => {
      if (event.detail.topic !== TOPIC || !seen || seen.has(i)) return
      seen.set(i, performance.now() - publishedAt)
      onSeen()
    })
    node.addEventListener('connection:close', () => disconnects++)
    pubsub.subscribe(TOPIC)
  })
  // On a starved machine a dial can pass even the 60 s deadline (TimeoutError); it is tried
  // again rather than losing the run, and the third failure says which edge.
  const dial = async (a: number, b: number) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await nodes[a]!.dial(nodes[b]!.getMultiaddrs()[0]!)
      } catch (error) {
        if (attempt === 3)
          throw new Error(`libp2p dial ${a} -> ${b} failed 3 times: ${(error as Error).message}`)
      }
    }
  }
  await Promise.all(graph.edges.map(([a, b]) => dial(a, b)))
  const meshSizes = () =>
    nodes.map((n) => (n.services.pubsub as GossipSub).getMeshPeers(TOPIC).length)
  const connections = () => nodes.reduce((sum, n) => sum + n.getConnections().length, 0)
  // The mesh changes only at heartbeats (GRAFT/PRUNE) and on GRAFTs from peers: re-checked at
  // every node's heartbeat until every mesh holds D_lo.
  const waitStart = performance.now()
  const formed = await until(
    () => Math.min(...meshSizes()) >= D_LO,
    nodes.map((n) => (listener: () => void) => {
      const pubsub = n.services.pubsub as GossipSub
      pubsub.addEventListener('gossipsub:heartbeat', listener)
      return () => pubsub.removeEventListener('gossipsub:heartbeat', listener)
    }),
    meshDeadlineMs,
    () => `every gossipsub mesh >= D_lo = ${D_LO} (sizes ${meshSizes()})`,
  ).then(
    () => true,
    () => false,
  )
  const mesh = { formed, sizes: meshSizes(), waitedMs: performance.now() - waitStart }
  return {
    ports,
    mesh,
    meshSizes,
    disconnects: () => disconnects,
    failures,
    async propagate(producer, bytes, windowMs, deadlineMs) {
      collectGarbage()
      seen = new Map([[producer, 0]])
      current = Buffer.from(bytes)
      copies = 0
      announcements = 0
      const atPublish = connections()
      const meshPeers = meshSizes().reduce((sum, n) => sum + n, 0)
      let span!: Span
      const all = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadlineMs)
        onSeen = () => {
          if (seen!.size < nodes.length) return
          span.end()
          clearTimeout(timer)
          resolve()
        }
      })
      const bytesBefore = bytesWritten(ports)
      const cpuAtPublish = process.cpuUsage()
      span = startSpan()
      publishedAt = performance.now()
      try {
        await nodes[producer]!.services.pubsub.publish(TOPIC, bytes)
      } catch (error) {
        // On a starved machine libp2p can lose a node's streams; that block is reported as not
        // reaching all, with the state of the producer's links.
        const peers = nodes[producer]!.getConnections().length
        const subscribers = (nodes[producer]!.services.pubsub as GossipSub).getSubscribers(
          TOPIC,
        ).length
        failures.push(
          `${(error as Error).message} (producer ${producer}: ${peers} connections, ${subscribers} subscribers)`,
        )
        onSeen = () => {}
      }
      await all
      const seenMs = [...seen.values()]
      // IHAVE gossip and IDONTWANT of this block go on after the last delivery: one heartbeat.
      const windowEnd = Math.max(windowMs, Math.max(...seenMs) + HEARTBEAT_MS)
      await new Promise((resolve) =>
        setTimeout(resolve, windowEnd - (performance.now() - publishedAt)),
      )
      const result = {
        seenMs,
        copies,
        announcements,
        windowBytes: bytesWritten(ports) - bytesBefore,
        windowMs: performance.now() - publishedAt,
        toAll: span.read(),
        cpuMsWindow: cpuMsSince(cpuAtPublish),
        connections: atPublish,
        meshPeers,
      }
      seen = undefined
      current = undefined
      return result
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
}
