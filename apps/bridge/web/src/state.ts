import type { BlockView, Edge, NetworkEvent, NodeView, ServerMessage } from '../../src/protocol.ts'

export interface NetworkState {
  nodes: Map<string, NodeView>
  edges: Edge[]
  blocks: Map<string, BlockView>
  events: NetworkEvent[]
  seq: number
}

export const emptyState = (): NetworkState => ({
  nodes: new Map(),
  edges: [],
  blocks: new Map(),
  events: [],
  seq: 0,
})

const MAX_BLOCKS = 100
const MAX_EVENTS = 50

/** Applies a snapshot (replaces everything) or a delta (merges) from the bridge. */
export function apply(state: NetworkState, message: ServerMessage): NetworkState {
  if (message.type === 'pong') return state
  if (message.type === 'snapshot') {
    const { nodes, edges, blocks, events } = message.data
    return {
      nodes: new Map(nodes.map((n) => [n.address, n])),
      edges,
      blocks: new Map(blocks.map((b) => [b.hash, b])),
      events: events.slice(-MAX_EVENTS),
      seq: message.seq,
    }
  }
  const { nodes, edges, blocks, events } = message.data
  const next: NetworkState = { ...state, seq: message.seq }
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
