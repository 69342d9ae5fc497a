import { useState } from 'preact/hooks'
import type { NodeView } from '../../src/protocol.ts'

type Column =
  | 'address'
  | 'height'
  | 'head'
  | 'lag'
  | 'peers'
  | 'rttMs'
  | 'lastSeen'
  | 'up'
  | 'producing'
const COLUMNS: [Column, string][] = [
  ['address', 'node'],
  ['height', 'height'],
  ['head', 'head'],
  ['lag', 'lag'],
  ['peers', 'peers'],
  ['rttMs', 'rtt'],
  ['lastSeen', 'last seen'],
  ['up', 'up'],
  ['producing', 'producing'],
]

export function NodeTable({ nodes, now }: { nodes: NodeView[]; now: number }) {
  const [sort, setSort] = useState<{ by: Column; desc: boolean }>({ by: 'address', desc: false })
  // The best height is one that at least two nodes report: a single node claiming a huge
  // height (statuses are not authenticated) cannot make every other node look behind.
  const heights = nodes
    .filter((n) => n.up && n.height !== null)
    .map((n) => n.height!)
    .sort((a, b) => b - a)
  const best = heights.length >= 2 ? heights[1]! : (heights[0] ?? 0)
  const value = (n: NodeView, c: Column): string | number | boolean =>
    c === 'lag'
      ? best - (n.height ?? 0)
      : ((n[c as keyof NodeView] as string | number | boolean | null) ?? '')
  const rows = [...nodes].sort((a, b) => {
    const [x, y] = [value(a, sort.by), value(b, sort.by)]
    const order = x < y ? -1 : x > y ? 1 : 0
    return sort.desc ? -order : order
  })
  return (
    <table id="nodes">
      <thead>
        <tr>
          {COLUMNS.map(([c, label]) => (
            <th
              key={c}
              onClick={() => setSort({ by: c, desc: sort.by === c ? !sort.desc : false })}
            >
              {label}
              {sort.by === c ? (sort.desc ? ' ▼' : ' ▲') : ''}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((n) => {
          const lag = best - (n.height ?? 0)
          return (
            <tr
              key={n.address}
              class={n.up ? 'up' : 'down'}
              data-address={n.address}
              data-height={n.height ?? ''}
            >
              <td class="mono">{n.address}</td>
              <td>{n.height ?? '–'}</td>
              <td class="mono">{n.head?.slice(0, 10) ?? '–'}</td>
              <td
                class={lag > 0 ? 'lag' : 'ok'}
                title={lag < 0 ? 'ahead of every other node: unconfirmed' : ''}
              >
                {n.up ? (lag < 0 ? `+${-lag}?` : lag) : '–'}
              </td>
              <td>{n.peers ?? '–'}</td>
              <td>{n.rttMs === null ? '–' : `${n.rttMs} ms`}</td>
              <td>{Math.max(0, Math.round((now - n.lastSeen) / 1000))} s ago</td>
              <td class={n.up ? 'ok' : 'lag'}>{n.up ? 'up' : 'down'}</td>
              <td>{n.producing === null ? '?' : n.producing ? 'yes' : 'no'}</td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
