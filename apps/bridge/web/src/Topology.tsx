import cytoscape, { type Core } from 'cytoscape'
import { useEffect, useRef } from 'preact/hooks'
import { type BlockView, type Edge, holdsBlock, type NodeView } from '../../src/protocol.ts'

const STYLE = [
  {
    selector: 'node',
    style: {
      width: 18,
      height: 18,
      'background-color': '#3b6fd8',
    },
  },
  {
    // Labels cost most of a redraw; past LABEL_LIMIT nodes only pinned-size graphs get them.
    selector: 'node.labelled',
    style: {
      label: 'data(label)',
      'font-size': 12,
      'text-valign': 'top',
      'text-margin-y': -4,
      'text-background-color': '#fff',
      'text-background-opacity': 0.8,
      'text-background-padding': 1,
    },
  },
  { selector: 'node.down', style: { 'background-color': '#c3c8d2' } },
  { selector: 'node.has-block', style: { 'background-color': '#15803d' } },
  { selector: 'edge', style: { width: 1.5, 'line-color': '#cfd5df', 'curve-style': 'bezier' } },
  {
    selector: 'edge.push',
    style: {
      width: 3.5,
      'line-color': '#2563eb',
      'target-arrow-shape': 'triangle',
      'target-arrow-color': '#2563eb',
    },
  },
  {
    selector: 'edge.pull',
    style: {
      width: 3,
      'line-style': 'dashed',
      'line-color': '#ea8a1a',
      'target-arrow-shape': 'triangle',
      'target-arrow-color': '#ea8a1a',
    },
  },
  {
    selector: 'edge.announced',
    style: {
      width: 1.5,
      'line-style': 'dotted',
      'line-color': '#a0a7b4',
      'target-arrow-shape': 'triangle',
      'target-arrow-color': '#a0a7b4',
    },
  },
  { selector: 'node.synced', style: { 'border-width': 3, 'border-color': '#7c3aed' } },
]

/** Above this many nodes, names are left off the graph (the table has them) to keep redraws cheap. */
const LABEL_LIMIT = 40

const label = (n: NodeView) => n.name ?? n.address.replace(/^127\.0\.0\.1:/, ':')

/**
 * Nodes and their links; a block's path drawn over them as it spread:
 * solid blue where it was pushed whole, dashed orange where the node
 * pulled it after an announcement, dotted grey where only the hash went,
 * a purple ring where a node got it by sync.
 */
export function Topology({
  nodes,
  edges,
  latest,
}: {
  nodes: NodeView[]
  edges: Edge[]
  latest: BlockView | undefined
}) {
  const container = useRef<HTMLDivElement>(null)
  const graph = useRef<Core>()
  useEffect(() => {
    graph.current = cytoscape({
      container: container.current,
      style: STYLE as never,
      userZoomingEnabled: false,
      // No GPU on many watchers' boxes: draw at 1x and skip work while nothing moves.
      pixelRatio: 1,
      textureOnViewport: true,
      hideEdgesOnViewport: true,
    })
    // A phone rotating or a window resizing: redraw to the new box and keep every node in view.
    const resized = new ResizeObserver(() => {
      graph.current?.resize()
      graph.current?.fit(undefined, 24)
    })
    if (container.current) resized.observe(container.current)
    return () => {
      resized.disconnect()
      graph.current?.destroy()
    }
  }, [])
  useEffect(() => {
    const cy = graph.current
    if (!cy) return
    const wanted = new Set(nodes.map((n) => n.address))
    const nodeSet = nodes
      .map((n) => n.address)
      .sort()
      .join(',')
    const before = cy
      .nodes()
      .map((n) => n.id())
      .sort()
      .join(',')
    cy.batch(() => {
      cy.nodes().forEach((n) => {
        if (!wanted.has(n.id())) cy.remove(n)
      })
      for (const n of nodes) {
        const existing = cy.getElementById(n.address)
        if (existing.empty()) cy.add({ group: 'nodes', data: { id: n.address, label: label(n) } })
        else if (existing.data('label') !== label(n)) existing.data('label', label(n))
        const element = cy.getElementById(n.address)
        if (element.hasClass('down') === n.up) element.toggleClass('down', !n.up)
        const labelled = nodes.length <= LABEL_LIMIT
        if (element.hasClass('labelled') !== labelled) element.toggleClass('labelled', labelled)
      }
      const edgeIds = new Set<string>()
      for (const [a, b] of edges) {
        if (!wanted.has(a) || !wanted.has(b)) continue
        const id = `${a}|${b}`
        edgeIds.add(id)
        if (cy.getElementById(id).empty())
          cy.add({ group: 'edges', data: { id, source: a, target: b } })
      }
      cy.edges('[!path]').forEach((e) => {
        if (!edgeIds.has(e.id())) cy.remove(e)
      })
    })
    if (before !== nodeSet) cy.layout({ name: 'circle', padding: 24 } as never).run()
    container.current?.setAttribute('data-nodes', String(cy.nodes().length))
    container.current?.setAttribute('data-edges', String(edges.length))
  }, [nodes, edges])
  useEffect(() => {
    const cy = graph.current
    if (!cy || !latest) return
    // Only what changed: a block spreading adds a few hops per update, not a whole new drawing.
    const hops = new Map<string, { source: string; target: string; kind: string }>()
    const holders = new Set<string>()
    const synced = new Set<string>()
    for (const r of latest.reach) {
      if (holdsBlock(r.arrival)) holders.add(r.node)
      if (r.arrival === 'synced') synced.add(r.node)
      if (!r.via || cy.getElementById(r.via).empty() || cy.getElementById(r.node).empty()) continue
      const kind = r.arrival === 'pull' || r.arrival === 'announced' ? r.arrival : 'push'
      hops.set(`path:${r.via}>${r.node}`, { source: r.via, target: r.node, kind })
    }
    cy.batch(() => {
      cy.edges('[?path]').forEach((e) => {
        const hop = hops.get(e.id())
        if (!hop) cy.remove(e)
        else if (!e.hasClass(hop.kind)) e.classes(hop.kind)
      })
      for (const [id, hop] of hops)
        if (cy.getElementById(id).empty())
          cy.add({
            group: 'edges',
            data: { id, source: hop.source, target: hop.target, path: true },
            classes: hop.kind,
          })
      cy.nodes().forEach((n) => {
        const has = holders.has(n.id())
        if (n.hasClass('has-block') !== has) n.toggleClass('has-block', has)
        const sync = synced.has(n.id())
        if (n.hasClass('synced') !== sync) n.toggleClass('synced', sync)
      })
    })
    container.current?.setAttribute('data-path', String(latest.reach.filter((r) => r.via).length))
    container.current?.setAttribute('data-block', latest.hash)
  }, [latest])
  return (
    <div>
      <div id="topology" ref={container} />
      <div class="legend">
        <span style="--c:#2563eb">pushed whole</span>
        <span style="--c:#ea8a1a">pulled after announce</span>
        <span style="--c:#a0a7b4">hash only</span>
        <span style="--c:#7c3aed">got it by sync</span>
        <span style="--c:#15803d">holds the block</span>
      </div>
    </div>
  )
}
