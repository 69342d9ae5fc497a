import cytoscape, { type Core } from 'cytoscape'
import { useEffect, useRef } from 'preact/hooks'
import type { BlockView, Edge, NodeView } from '../../src/protocol.ts'

const STYLE = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-size': 9,
      'background-color': '#3b6fd8',
      width: 18,
      height: 18,
    },
  },
  { selector: 'node.down', style: { 'background-color': '#c3c8d2' } },
  { selector: 'node.has-block', style: { 'background-color': '#15803d' } },
  { selector: 'edge', style: { width: 1.5, 'line-color': '#cfd5df', 'curve-style': 'bezier' } },
  {
    selector: 'edge.block',
    style: {
      width: 3.5,
      'line-color': '#2563eb',
      'target-arrow-shape': 'triangle',
      'target-arrow-color': '#2563eb',
    },
  },
  {
    selector: 'edge.hash',
    style: {
      width: 2.5,
      'line-style': 'dashed',
      'line-color': '#ea8a1a',
      'target-arrow-shape': 'triangle',
      'target-arrow-color': '#ea8a1a',
    },
  },
]

const short = (address: string) => address.replace(/^127\.0\.0\.1:/, ':')

/**
 * Nodes and their links; the latest block's path drawn over them as it
 * spreads: solid blue where it travelled whole, dashed orange where only
 * its hash was announced.
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
    })
    return () => graph.current?.destroy()
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
        if (existing.empty())
          cy.add({ group: 'nodes', data: { id: n.address, label: short(n.address) } })
        cy.getElementById(n.address).toggleClass('down', !n.up)
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
    cy.batch(() => {
      cy.edges('[?path]').remove()
      cy.nodes().removeClass('has-block')
      for (const r of latest.reach) {
        if (r.kind !== 'hash') cy.getElementById(r.node).addClass('has-block')
        if (!r.via || cy.getElementById(r.via).empty() || cy.getElementById(r.node).empty())
          continue
        cy.add({
          group: 'edges',
          data: { id: `path:${r.via}>${r.node}`, source: r.via, target: r.node, path: true },
          classes: r.kind === 'hash' ? 'hash' : 'block',
        })
      }
    })
    container.current?.setAttribute('data-path', String(latest.reach.filter((r) => r.via).length))
  }, [latest])
  return (
    <div>
      <div id="topology" ref={container} />
      <div class="legend">
        <span style="--c:#2563eb">block sent whole</span>
        <span style="--c:#ea8a1a">hash announced</span>
        <span style="--c:#15803d">node has the latest block</span>
      </div>
    </div>
  )
}
