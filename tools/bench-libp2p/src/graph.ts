// One random graph for both stacks: n nodes, every node with exactly
// `degree` neighbours (a random regular graph, redrawn until connected), from a seeded generator so both stacks
// and every run see the same edges.

import { seededRandom } from '@chronos/codec'

export interface Graph {
  nodes: number
  /** Undirected edges [a, b] with a < b; the lower index dials. */
  edges: [number, number][]
  neighbours: Set<number>[]
}

export { seededRandom }

export function randomRegularGraph(nodes: number, degree: number, seed: number): Graph {
  if ((nodes * degree) % 2 !== 0 || degree >= nodes)
    throw new RangeError(`no simple ${degree}-regular graph on ${nodes} nodes`)
  const random = seededRandom(seed)
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const neighbours = drawRegular(nodes, degree, random)
    if (!neighbours || !connected(neighbours)) continue
    const edges: [number, number][] = []
    for (let a = 0; a < nodes; a++) for (const b of neighbours[a]!) if (a < b) edges.push([a, b])
    return { nodes, edges, neighbours }
  }
  throw new Error(`could not draw a simple connected ${degree}-regular graph on ${nodes} nodes`)
}

/**
 * Pairs free stubs at random, always from the node with the most left (so
 * the draw rarely paints itself into a corner), never a self-loop or a
 * second edge between two nodes; undefined when it gets stuck (draw again).
 */
function drawRegular(
  nodes: number,
  degree: number,
  random: () => number,
): Set<number>[] | undefined {
  const neighbours = Array.from({ length: nodes }, () => new Set<number>())
  const left = new Array<number>(nodes).fill(degree)
  for (let placed = 0; placed < (nodes * degree) / 2; placed++) {
    const most = Math.max(...left)
    const heaviest = left.flatMap((l, i) => (l === most ? [i] : []))
    const a = heaviest[Math.floor(random() * heaviest.length)]!
    const options = left.flatMap((l, b) => (l > 0 && b !== a && !neighbours[a]!.has(b) ? [b] : []))
    if (options.length === 0) return undefined
    const b = options[Math.floor(random() * options.length)]!
    neighbours[a]!.add(b)
    neighbours[b]!.add(a)
    left[a]!--
    left[b]!--
  }
  return neighbours
}

function connected(neighbours: Set<number>[]): boolean {
  const seen = new Set([0])
  const queue = [0]
  while (queue.length)
    for (const next of neighbours[queue.pop()!]!)
      if (!seen.has(next)) seen.add(next) && queue.push(next)
  return seen.size === neighbours.length
}

/** Hops from `from` to the farthest node. */
export function eccentricity(graph: Graph, from: number): number {
  const distance = new Map([[from, 0]])
  const queue = [from]
  while (queue.length) {
    const at = queue.shift()!
    for (const next of graph.neighbours[at]!)
      if (!distance.has(next)) {
        distance.set(next, distance.get(at)! + 1)
        queue.push(next)
      }
  }
  return Math.max(...distance.values())
}
