import type {
  BlockView,
  Edge,
  NetworkEvent,
  NetworkInfo,
  NodeView,
  ServerMessage,
} from '../../src/protocol.ts'

export interface NetworkState {
  network: NetworkInfo
  nodes: Map<string, NodeView>
  edges: Edge[]
  blocks: Map<string, BlockView>
  events: NetworkEvent[]
}

export const emptyState = (): NetworkState => ({
  network: { network: null, producers: null, inTurn: null },
  nodes: new Map(),
  edges: [],
  blocks: new Map(),
  events: [],
})

const MAX_BLOCKS = 200
const MAX_EVENTS = 50

/** Applies a snapshot (replaces everything) or a delta (merges); `seq` is checked before (sequence.ts). */
export function apply(state: NetworkState, message: ServerMessage): NetworkState {
  if (message.type === 'pong') return state
  if (message.type === 'snapshot') {
    const { network, nodes, edges, blocks, events } = message.data
    return {
      network,
      nodes: new Map(nodes.map((n) => [n.address, n])),
      edges,
      blocks: new Map(blocks.map((b) => [b.hash, b])),
      events: events.slice(-MAX_EVENTS),
    }
  }
  const { network, nodes, edges, blocks, events } = message.data
  const next: NetworkState = { ...state }
  if (network) next.network = network
  if (nodes) {
    next.nodes = new Map(state.nodes)
    for (const node of nodes) next.nodes.set(node.address, node)
  }
  if (edges) next.edges = edges
  if (blocks) {
    next.blocks = new Map(state.blocks)
    for (const block of blocks) next.blocks.set(block.hash, block)
    while (next.blocks.size > MAX_BLOCKS)
      next.blocks.delete(next.blocks.keys().next().value as string)
  }
  if (events) next.events = [...state.events, ...events].slice(-MAX_EVENTS)
  return next
}
