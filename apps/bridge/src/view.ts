import { EventEmitter } from 'node:events'
import {
  type Arrival,
  type BlockView,
  type Delta,
  type Edge,
  holdsBlock,
  type NetworkEvent,
  type NetworkInfo,
  type NodeView,
  type Reach,
  type Snapshot,
} from './protocol.js'

export interface NetworkViewOptions {
  /** Recent blocks kept (oldest dropped). Default 200. */
  maxBlocks?: number
  /** Recent fork/reorg/up/down events kept. Default 100. */
  maxEvents?: number
  /** Nodes tracked; more are ignored. Default 1000. */
  maxNodes?: number
  /** The clock (tests). Default Date.now. */
  now?: () => number
}

/** What a node saw of a block, as the observer learned it. */
export interface Sighting {
  hash: string
  at: number
  arrival: Arrival
  via?: string | null
  height?: number | null
  producer?: string | null
  transactions?: number | null
  /** From the node's own report (API): authoritative over a P2P sighting. */
  reported?: boolean
  /** The node confirmed it. */
  confirmed?: boolean
}

/** The fields a caller may set on a node; the view owns address, uptime and lastSeen. */
export type NodeFields = Partial<Omit<NodeView, 'address' | 'uptime' | 'lastSeen'>>

interface BlockState {
  view: BlockView
  reach: Map<string, Reach & { reported: boolean }>
  dirty: boolean
}

/** Time accounting for a node's uptime share. */
interface Presence {
  since: number
  downTotal: number
  downSince: number | undefined
}

const sortEdge = (a: string, b: string): Edge => (a < b ? [a, b] : [b, a])
const QUANTILES = [
  ['t50', 0.5],
  ['t90', 0.9],
  ['t95', 0.95],
  ['t99', 0.99],
  ['t100', 1],
] as const

/**
 * Whether sighting `next` replaces what the view holds for that node. A
 * node's own report beats what the bridge saw over P2P; then the earlier
 * sighting wins, except that holding a block beats only knowing its hash.
 */
function replaces(current: (Reach & { reported: boolean }) | undefined, next: Sighting): boolean {
  if (!current) return true
  const reported = next.reported === true
  if (reported !== current.reported) return reported
  const held = [holdsBlock(current.arrival), holdsBlock(next.arrival)]
  if (held[0] !== held[1]) return held[1]!
  return next.at < current.at
}

/**
 * The bridge's model of the network: nodes, links, recent blocks and how
 * they spread, forks and reorgs. Changes accumulate until `flush()`, which
 * emits them as one `delta`; `snapshot()` is the whole state.
 */
export class NetworkView extends EventEmitter<{ delta: [delta: Delta] }> {
  private readonly nodes = new Map<string, NodeView>()
  private readonly presence = new Map<string, Presence>()
  private edges: Edge[] = []
  private readonly blocks = new Map<string, BlockState>()
  private events: NetworkEvent[] = []
  private network: NetworkInfo = { network: null, producers: null, inTurn: null }
  private readonly changedNodes = new Set<string>()
  private readonly changedBlocks = new Set<string>()
  private newEvents: NetworkEvent[] = []
  private edgesChanged = false
  private networkChanged = false
  private readonly forksSeen = new Set<string>()
  private readonly maxBlocks: number
  private readonly maxEvents: number
  private readonly maxNodes: number
  private readonly now: () => number

  constructor(options: NetworkViewOptions = {}) {
    super()
    this.maxBlocks = options.maxBlocks ?? 200
    this.maxEvents = options.maxEvents ?? 100
    this.maxNodes = options.maxNodes ?? 1000
    this.now = options.now ?? Date.now
  }

  /** Merges what is known of a node; detects reorgs (its head moved back or sideways) and forks. */
  updateNode(address: string, fields: NodeFields & { lastSeen?: number }): void {
    const before = this.nodes.get(address)
    if (!before && this.nodes.size >= this.maxNodes) return
    const now = this.now()
    const next: NodeView = {
      address,
      name: null,
      height: null,
      head: null,
      rttMs: null,
      producing: null,
      peers: null,
      pending: null,
      key: null,
      producer: null,
      provenPeers: null,
      source: 'p2p',
      uptime: 1,
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
    next.uptime = this.account(address, next.up)
    this.nodes.set(address, next)
    this.changedNodes.add(address)
    this.detectFork(next)
    if (next.head && next.head !== before?.head) this.headReached(address, next.head)
  }

  /** The network's declared facts (name, producers), from our nodes' APIs. */
  setNetwork(info: Partial<NetworkInfo>): void {
    const next = { ...this.network, ...info }
    if (JSON.stringify(next) === JSON.stringify(this.network)) return
    this.network = next
    this.networkChanged = true
  }

  /** A node reported replacing `removed` blocks above `forkHeight` (its new head at `height`). */
  reorg(address: string, r: { forkHeight: number; removed: number; height: number; head: string }) {
    this.event(
      'reorg',
      address,
      `replaced ${r.removed} block${r.removed === 1 ? '' : 's'} above ${r.forkHeight}; head ${r.height}:${r.head.slice(0, 8)}`,
    )
    this.headReached(address, r.head)
  }

  nodeDown(address: string): void {
    const node = this.nodes.get(address)
    if (!node?.up) return
    this.nodes.set(address, { ...node, up: false, uptime: this.account(address, false) })
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

  /** Records that `node` had (or was told of) a block; keeps each node's most telling sighting. */
  observe(node: string, sighting: Sighting): void {
    let state = this.blocks.get(sighting.hash)
    if (!state) {
      state = this.addBlock(sighting.hash, sighting.at)
      // Nodes whose head already is this block reached it before any gossip sighting: by sync.
      for (const other of this.nodes.values())
        if (other.head === sighting.hash && other.address !== node)
          this.reach(state, other.address, {
            hash: sighting.hash,
            at: this.now(),
            arrival: 'synced',
          })
    }
    const view = state.view
    if (sighting.confirmed) view.confirmed = true
    view.height ??= sighting.height ?? null
    view.producer ??= sighting.producer ?? null
    view.transactions ??= sighting.transactions ?? null
    this.reach(state, node, sighting)
    this.changedBlocks.add(sighting.hash)
  }

  snapshot(): Snapshot {
    for (const state of this.blocks.values()) this.recompute(state)
    return {
      network: this.network,
      nodes: [...this.nodes.values()],
      edges: this.edges,
      blocks: [...this.blocks.values()].map((b) => b.view),
      events: this.events,
    }
  }

  /** Emits what changed since the last flush as one delta (nothing when nothing changed). */
  flush(): void {
    const delta: Delta = {}
    if (this.networkChanged) delta.network = this.network
    if (this.changedNodes.size)
      delta.nodes = [...this.changedNodes].flatMap((a) =>
        this.nodes.has(a) ? [this.nodes.get(a)!] : [],
      )
    if (this.edgesChanged) delta.edges = this.edges
    if (this.changedBlocks.size)
      delta.blocks = [...this.changedBlocks].flatMap((h) => {
        const state = this.blocks.get(h)
        if (!state) return []
        this.recompute(state)
        return [state.view]
      })
    if (this.newEvents.length) delta.events = this.newEvents
    this.changedNodes.clear()
    this.changedBlocks.clear()
    this.newEvents = []
    this.edgesChanged = false
    this.networkChanged = false
    if (Object.keys(delta).length) this.emit('delta', delta)
  }

  /** Puts back blocks and events saved before a restart (nodes come back by themselves). */
  restore(saved: { blocks?: readonly BlockView[]; events?: readonly NetworkEvent[] }): void {
    for (const view of saved.blocks ?? []) {
      if (this.blocks.has(view.hash)) continue
      const state = this.addBlock(view.hash, view.firstSeen)
      state.view = { ...view }
      for (const r of view.reach) state.reach.set(r.node, { ...r, reported: true })
      // Its times were measured against the nodes up then; keep them until a new sighting.
      state.dirty = false
    }
    if (saved.events?.length) this.events = [...saved.events, ...this.events].slice(-this.maxEvents)
  }

  private addBlock(hash: string, at: number): BlockState {
    const state: BlockState = {
      view: {
        hash,
        height: null,
        producer: null,
        transactions: null,
        firstSeen: at,
        confirmed: false,
        reach: [],
        t50: null,
        t90: null,
        t95: null,
        t99: null,
        t100: null,
      },
      reach: new Map(),
      dirty: true,
    }
    this.blocks.set(hash, state)
    if (this.blocks.size > this.maxBlocks)
      this.blocks.delete(this.blocks.keys().next().value as string)
    return state
  }

  private reach(state: BlockState, node: string, sighting: Sighting): void {
    const current = state.reach.get(node)
    if (!replaces(current, sighting)) return
    // Received whole after its hash was announced to that node: it was pulled, not pushed.
    const arrival =
      sighting.arrival === 'push' && current?.arrival === 'announced' ? 'pull' : sighting.arrival
    state.reach.set(node, {
      node,
      at: sighting.at,
      via: sighting.via ?? (arrival === 'pull' ? current!.via : null),
      arrival,
      reported: sighting.reported === true,
    })
    state.dirty = true
    this.changedBlocks.add(state.view.hash)
  }

  /** A node's head is `hash`: if the view knows that block and the node held it by no other way, it synced it. */
  private headReached(address: string, hash: string): void {
    const state = this.blocks.get(hash)
    if (!state) return
    const current = state.reach.get(address)
    if (current && holdsBlock(current.arrival)) return
    this.reach(state, address, { hash, at: this.now(), arrival: 'synced' })
  }

  private recompute(state: BlockState): void {
    if (!state.dirty) return
    state.dirty = false
    const reach = [...state.reach.values()]
    const view = state.view
    if (!reach.length) return
    view.firstSeen = Math.min(...reach.map((r) => r.at))
    view.reach = reach.map(({ reported: _, ...r }) => r).sort((a, b) => a.at - b.at)
    let up = 0
    for (const n of this.nodes.values()) if (n.up) up++
    up ||= reach.length
    const times = view.reach.filter((r) => holdsBlock(r.arrival)).map((r) => r.at - view.firstSeen)
    for (const [key, q] of QUANTILES) {
      const needed = Math.max(1, Math.ceil(q * up))
      view[key] = times.length >= needed ? times[needed - 1]! : null
    }
  }

  /** Updates a node's up/down accounting and returns its uptime share. */
  private account(address: string, up: boolean): number {
    const now = this.now()
    let p = this.presence.get(address)
    if (!p) {
      p = { since: now, downTotal: 0, downSince: up ? undefined : now }
      this.presence.set(address, p)
    }
    if (up && p.downSince !== undefined) {
      p.downTotal += now - p.downSince
      p.downSince = undefined
    } else if (!up && p.downSince === undefined) p.downSince = now
    const span = now - p.since
    const down = p.downTotal + (p.downSince === undefined ? 0 : now - p.downSince)
    return span <= 0 ? (up ? 1 : 0) : Math.max(0, Math.min(1, 1 - down / span))
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
    const event: NetworkEvent = { at: this.now(), kind, node, detail }
    this.events.push(event)
    if (this.events.length > this.maxEvents) this.events = this.events.slice(-this.maxEvents)
    this.newEvents.push(event)
  }
}
