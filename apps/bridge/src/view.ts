import { EventEmitter } from 'node:events'
import type { BlockView, Delta, Edge, NetworkEvent, NodeView, Reach, Snapshot } from './protocol.js'

export interface NetworkViewOptions {
  /** Recent blocks kept (oldest dropped). Default 100. */
  maxBlocks?: number
  /** Recent fork/reorg/up/down events kept. Default 100. */
  maxEvents?: number
  /** Nodes tracked; more are ignored. Default 1000. */
  maxNodes?: number
}

/** What a node saw of a block, as the observer learned it. */
export interface Sighting {
  hash: string
  at: number
  kind: Reach['kind']
  via?: string | null
  height?: number | null
  producer?: string | null
  transactions?: number | null
  /** From the node's own report (API): authoritative over a P2P sighting. */
  reported?: boolean
  /** The node confirmed it. */
  confirmed?: boolean
}

interface BlockState {
  view: BlockView
  reach: Map<string, Reach & { reported: boolean }>
}

const sortEdge = (a: string, b: string): Edge => (a < b ? [a, b] : [b, a])
const holdsBlock = (r: Reach) => r.kind !== 'hash'

/**
 * The bridge's model of the network: nodes, links, recent blocks and how
 * they spread, forks and reorgs. Changes accumulate until `flush()`, which
 * emits them as one `delta`; `snapshot()` is the whole state.
 */
export class NetworkView extends EventEmitter<{ delta: [delta: Delta] }> {
  private readonly nodes = new Map<string, NodeView>()
  private edges: Edge[] = []
  private readonly blocks = new Map<string, BlockState>()
  private events: NetworkEvent[] = []
  private readonly changedNodes = new Set<string>()
  private readonly changedBlocks = new Set<string>()
  private newEvents: NetworkEvent[] = []
  private edgesChanged = false
  private readonly forksSeen = new Set<string>()
  private readonly maxBlocks: number
  private readonly maxEvents: number
  private readonly maxNodes: number

  constructor(options: NetworkViewOptions = {}) {
    super()
    this.maxBlocks = options.maxBlocks ?? 100
    this.maxEvents = options.maxEvents ?? 100
    this.maxNodes = options.maxNodes ?? 1000
  }

  /** Merges what is known of a node; detects reorgs (its head moved back or sideways) and forks. */
  updateNode(address: string, fields: Partial<Omit<NodeView, 'address'>>): void {
    const before = this.nodes.get(address)
    if (!before && this.nodes.size >= this.maxNodes) return
    const now = Date.now()
    const next: NodeView = {
      address,
      height: null,
      head: null,
      rttMs: null,
      producing: null,
      peers: null,
      source: 'p2p',
      ...before,
      ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
      lastSeen: fields.lastSeen ?? now,
      up: fields.up ?? true,
    }
    if (before && !before.up && next.up) this.event('node-up', address, 'reachable again')
    // Our own nodes report their reorgs exactly (reorg()); for others, infer them.
    if (
      next.source !== 'api' &&
      before?.head &&
      next.head &&
      before.head !== next.head &&
      before.height !== null
    ) {
      const height = next.height ?? 0
      if (height <= before.height)
        this.event(
          'reorg',
          address,
          `head ${before.height}:${before.head.slice(0, 8)} → ${height}:${next.head.slice(0, 8)}`,
        )
    }
    this.nodes.set(address, next)
    this.changedNodes.add(address)
    this.detectFork(next)
  }

  /** A node reported replacing `removed` blocks above `forkHeight` (its new head at `height`). */
  reorg(address: string, r: { forkHeight: number; removed: number; height: number; head: string }) {
    this.event(
      'reorg',
      address,
      `replaced ${r.removed} block${r.removed === 1 ? '' : 's'} above ${r.forkHeight}; head ${r.height}:${r.head.slice(0, 8)}`,
    )
  }

  nodeDown(address: string): void {
    const node = this.nodes.get(address)
    if (!node?.up) return
    this.nodes.set(address, { ...node, up: false })
    this.changedNodes.add(address)
    this.event('node-down', address, 'no connection')
  }

  setEdges(edges: readonly Edge[]): void {
    const next = [
      ...new Map(edges.map(([a, b]) => sortEdge(a, b)).map((e) => [e.join('|'), e])).values(),
    ].sort((x, y) => x.join('|').localeCompare(y.join('|')))
    if (
      next.length === this.edges.length &&
      next.every((e, i) => e.join('|') === this.edges[i]!.join('|'))
    )
      return
    this.edges = next
    this.edgesChanged = true
  }

  /** Records that `node` had (or was told of) a block; keeps each node's earliest sighting. */
  observe(node: string, sighting: Sighting): void {
    let state = this.blocks.get(sighting.hash)
    if (!state) {
      state = {
        view: {
          hash: sighting.hash,
          height: null,
          producer: null,
          transactions: null,
          firstSeen: sighting.at,
          confirmed: false,
          reach: [],
          t50: null,
          t90: null,
          t100: null,
        },
        reach: new Map(),
      }
      this.blocks.set(sighting.hash, state)
      if (this.blocks.size > this.maxBlocks)
        this.blocks.delete(this.blocks.keys().next().value as string)
    }
    const view = state.view
    if (sighting.confirmed) view.confirmed = true
    view.height ??= sighting.height ?? null
    view.producer ??= sighting.producer ?? null
    view.transactions ??= sighting.transactions ?? null
    const current = state.reach.get(node)
    const reported = sighting.reported === true
    const replaces =
      !current ||
      (reported && !current.reported) ||
      (reported === current.reported &&
        (sighting.at < current.at || (current.kind === 'hash' && sighting.kind !== 'hash')))
    if (replaces) {
      state.reach.set(node, {
        node,
        at: sighting.at,
        via: sighting.via ?? null,
        kind: sighting.kind,
        reported,
      })
      this.recompute(state)
    }
    this.changedBlocks.add(sighting.hash)
  }

  snapshot(): Snapshot {
    return {
      nodes: [...this.nodes.values()],
      edges: this.edges,
      blocks: [...this.blocks.values()].map((b) => b.view),
      events: this.events,
    }
  }

  /** Emits what changed since the last flush as one delta (nothing when nothing changed). */
  flush(): void {
    const delta: Delta = {}
    if (this.changedNodes.size)
      delta.nodes = [...this.changedNodes].flatMap((a) =>
        this.nodes.has(a) ? [this.nodes.get(a)!] : [],
      )
    if (this.edgesChanged) delta.edges = this.edges
    if (this.changedBlocks.size)
      delta.blocks = [...this.changedBlocks].flatMap((h) =>
        this.blocks.has(h) ? [this.blocks.get(h)!.view] : [],
      )
    if (this.newEvents.length) delta.events = this.newEvents
    this.changedNodes.clear()
    this.changedBlocks.clear()
    this.newEvents = []
    this.edgesChanged = false
    if (Object.keys(delta).length) this.emit('delta', delta)
  }

  private recompute(state: BlockState): void {
    const reach = [...state.reach.values()]
    const view = state.view
    view.firstSeen = Math.min(...reach.map((r) => r.at))
    view.reach = reach.map(({ reported: _, ...r }) => r).sort((a, b) => a.at - b.at)
    const up = [...this.nodes.values()].filter((n) => n.up).length || reach.length
    const times = view.reach.filter(holdsBlock).map((r) => r.at - view.firstSeen)
    const at = (q: number) => {
      const needed = Math.max(1, Math.ceil(q * up))
      return times.length >= needed ? times[needed - 1]! : null
    }
    view.t50 = at(0.5)
    view.t90 = at(0.9)
    view.t100 = at(1)
  }

  private detectFork(node: NodeView): void {
    if (node.height === null || node.head === null) return
    for (const other of this.nodes.values()) {
      if (
        other === node ||
        !other.up ||
        other.height !== node.height ||
        !other.head ||
        other.head === node.head
      )
        continue
      const key = [node.height, ...[node.head, other.head].sort()].join(':')
      if (this.forksSeen.has(key)) return
      this.forksSeen.add(key)
      if (this.forksSeen.size > 1000)
        this.forksSeen.delete(this.forksSeen.values().next().value as string)
      this.event(
        'fork',
        node.address,
        `height ${node.height}: ${node.head.slice(0, 8)} vs ${other.head.slice(0, 8)} at ${other.address}`,
      )
      return
    }
  }

  private event(kind: NetworkEvent['kind'], node: string, detail: string): void {
    const event: NetworkEvent = { at: Date.now(), kind, node, detail }
    this.events.push(event)
    if (this.events.length > this.maxEvents) this.events = this.events.slice(-this.maxEvents)
    this.newEvents.push(event)
  }
}
