import type { Arrival, BlockView, NetworkEvent } from '../../src/protocol.ts'

const ms = (v: number | null) => (v === null ? '–' : `${Math.round(v)} ms`)

/** How a block's holders came by it, e.g. "3 push · 1 pull · 1 sync". */
function paths(b: BlockView): string {
  const count: Partial<Record<Arrival, number>> = {}
  for (const r of b.reach) count[r.arrival] = (count[r.arrival] ?? 0) + 1
  const shown: [Arrival, string][] = [
    ['push', 'push'],
    ['pull', 'pull'],
    ['synced', 'sync'],
    ['seen', 'seen'],
    ['announced', 'hash only'],
  ]
  return shown
    .filter(([a]) => count[a])
    .map(([a, label]) => `${count[a]} ${label}`)
    .join(' · ')
}

export function BlockFeed({
  blocks,
  selected,
  onSelect,
}: {
  blocks: BlockView[]
  selected: string | undefined
  onSelect: (hash: string) => void
}) {
  return (
    <div class="scroll">
      <table id="blocks">
        <thead>
          <tr>
            <th>height</th>
            <th />
            <th>hash</th>
            <th class="optional">producer</th>
            <th class="optional">txs</th>
            <th>50 %</th>
            <th class="optional">90 %</th>
            <th>100 %</th>
            <th class="optional">paths</th>
          </tr>
        </thead>
        <tbody>
          {blocks.slice(0, 15).map((b) => (
            <tr
              key={b.hash}
              data-hash={b.hash}
              data-t100={b.t100 ?? ''}
              data-arrivals={b.reach.map((r) => r.arrival).join(',')}
              class={`${b.confirmed ? 'confirmed' : 'candidate'}${b.hash === selected ? ' selected' : ''}`}
              onClick={() => onSelect(b.hash)}
            >
              <td>{b.height ?? '?'}</td>
              <td title={b.confirmed ? 'confirmed' : 'candidate (not confirmed)'}>
                {b.confirmed ? '✓' : '·'}
              </td>
              <td class="mono">{b.hash.slice(0, 10)}</td>
              <td class="mono optional">{b.producer ?? '?'}</td>
              <td class="optional">{b.transactions ?? '?'}</td>
              <td>{ms(b.t50)}</td>
              <td class="optional">{ms(b.t90)}</td>
              <td>{ms(b.t100)}</td>
              <td class="optional paths">{paths(b)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
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
