import type { BlockView, NetworkEvent } from '../../src/protocol.ts'

const ms = (v: number | null) => (v === null ? '–' : `${Math.round(v)} ms`)

export function BlockFeed({ blocks }: { blocks: BlockView[] }) {
  return (
    <table id="blocks">
      <thead>
        <tr>
          <th>height</th>
          <th />
          <th>hash</th>
          <th>producer</th>
          <th>txs</th>
          <th>50 %</th>
          <th>90 %</th>
          <th>100 %</th>
        </tr>
      </thead>
      <tbody>
        {blocks.slice(0, 15).map((b) => (
          <tr key={b.hash} data-t100={b.t100 ?? ''} class={b.confirmed ? 'confirmed' : 'candidate'}>
            <td>{b.height ?? '?'}</td>
            <td title={b.confirmed ? 'confirmed' : 'candidate (not confirmed)'}>
              {b.confirmed ? '✓' : '·'}
            </td>
            <td class="mono">{b.hash.slice(0, 10)}</td>
            <td class="mono">{b.producer ?? '?'}</td>
            <td>{b.transactions ?? '?'}</td>
            <td>{ms(b.t50)}</td>
            <td>{ms(b.t90)}</td>
            <td>{ms(b.t100)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** Distribution of time-to-all-nodes over recent blocks. */
export function Histogram({ blocks }: { blocks: BlockView[] }) {
  const times = blocks.map((b) => b.t100).filter((t): t is number => t !== null)
  if (!times.length) return <p>No block has reached every node yet.</p>
  const bins = 10
  const top = Math.max(...times, 1)
  const width = Math.ceil(top / bins)
  const counts = Array.from(
    { length: bins },
    (_, i) => times.filter((t) => Math.min(bins - 1, Math.floor(t / width)) === i).length,
  )
  const most = Math.max(...counts)
  return (
    <svg id="histogram" viewBox="0 0 300 120" width="100%" height="140" role="img">
      <title>Time for recent blocks to reach every node</title>
      {counts.map((c, i) => (
        <g key={i}>
          <rect
            x={i * 30 + 2}
            y={100 - (c / most) * 90}
            width={26}
            height={(c / most) * 90}
            fill="#3b6fd8"
          />
          <text x={i * 30 + 15} y={114} text-anchor="middle">{`${i * width}`}</text>
        </g>
      ))}
      <text x={298} y={10} text-anchor="end">{`${times.length} blocks, ms to 100 %`}</text>
    </svg>
  )
}

export function Events({ events }: { events: NetworkEvent[] }) {
  if (!events.length) return <p>No forks or reorgs seen.</p>
  return (
    <ul class="events">
      {[...events]
        .reverse()
        .slice(0, 12)
        .map((e, i) => (
          <li key={i} class={e.kind}>
            {new Date(e.at).toLocaleTimeString()} <b>{e.kind}</b> {e.node}: {e.detail}
          </li>
        ))}
    </ul>
  )
}
