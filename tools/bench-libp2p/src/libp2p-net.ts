// The js-libp2p side: one libp2p node per graph vertex (TCP, noise, yamux,
// identify, gossipsub 14 with its defaults: D=6, StrictSign, floodPublish),
// the lower index of each edge dialing. A block is the same NEW_BLOCK bytes
// Chronos sends, published on one topic; every node runs the same codec
// check Chronos runs (schema, header hash, tx_root) as a topic validator,
// as an application on gossipsub must before forwarding a block.
import { type GossipSub, gossipsub } from '@chainsafe/libp2p-gossipsub'
import { checkWellFormed, decodeMessage } from '@chronos/codec'
import { identify } from '@libp2p/identify'
import { TopicValidatorResult } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'
import type { Delivery } from './chronos-net.js'
import type { Graph } from './graph.js'
import { libp2pBase } from './libp2p-options.js'

export const TOPIC = 'chronos-bench/blocks'

type GossipNode = Awaited<ReturnType<typeof createNode>>

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

export interface Libp2pNet {
  ports: Set<number>
  /** Publishes `bytes` at `producer`; resolves when every node delivered it or `timeoutMs` passed. */
  propagate(producer: number, bytes: Uint8Array, timeoutMs: number): Promise<Delivery>
  meshSizes(): number[]
  /** Publishes that failed, with why. */
  failures: string[]
  stop(): Promise<void>
}

export async function startLibp2pNet(graph: Graph): Promise<Libp2pNet> {
  const nodes: GossipNode[] = []
  for (let i = 0; i < graph.nodes; i++) nodes.push(await createNode())
  const ports = new Set(
    nodes.map((n) => Number(n.getMultiaddrs()[0]!.toString().split('/tcp/')[1]!.split('/')[0])),
  )
  let copies = 0
  const failures: string[] = []
  let seen: Map<number, number> | undefined
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
    // Every full copy received, duplicates included (they are dropped after this point).
    const handleReceivedRpc = pubsub.handleReceivedRpc.bind(pubsub)
    pubsub.handleReceivedRpc = (from, rpc) => {
      for (const message of rpc.messages) if (message.topic === TOPIC) copies++
      return handleReceivedRpc(from, rpc)
    }
    pubsub.addEventListener('message', (event) => {
      if (event.detail.topic !== TOPIC || !seen || seen.has(i)) return
      seen.set(i, performance.now() - publishedAt)
      onSeen()
    })
    pubsub.subscribe(TOPIC)
  })
  await Promise.all(graph.edges.map(([a, b]) => nodes[a]!.dial(nodes[b]!.getMultiaddrs()[0]!)))
  // Wait for the mesh: every node grafted at least D_lo = 4 peers (a few heartbeats). Past the
  // deadline, measure anyway: the sizes are reported, and gossip still reaches a thin mesh.
  const meshSizes = () =>
    nodes.map((n) => (n.services.pubsub as GossipSub).getMeshPeers(TOPIC).length)
  const deadline = Date.now() + 60_000
  while (Math.min(...meshSizes()) < 4 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100))
  return {
    ports,
    meshSizes,
    failures,
    async propagate(producer, bytes, timeoutMs) {
      seen = new Map([[producer, 0]])
      copies = 0
      const all = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        onSeen = () => {
          if (seen!.size < nodes.length) return
          clearTimeout(timer)
          resolve()
        }
      })
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
        seen = undefined
        return { seenMs: [], copies: 0 }
      }
      await all
      const result = { seenMs: [...seen.values()], copies }
      seen = undefined
      return result
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
}
