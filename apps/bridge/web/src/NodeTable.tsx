import { memo } from 'preact/compat'
import { useCallback, useEffect, useState } from 'preact/hooks'
import type { NodeView } from '../../src/protocol.ts'

type Column =
  | 'name'
  | 'address'
  | 'key'
  | 'height'
  | 'head'
  | 'lag'
  | 'peers'
  | 'pending'
  | 'rttMs'
  | 'lastSeen'
  | 'uptime'
  | 'up'
  | 'producing'
/** [column, label, hidden on a phone] */
const COLUMNS: [Column, string, boolean][] = [
  ['name', 'node', false],
  ['address', 'address', true],
  ['key', 'key', true],
  ['height', 'height', false],
  ['head', 'head', true],
  ['lag', 'lag', false],
  ['peers', 'peers', false],
  ['pending', 'pending', true],
  ['rttMs', 'rtt', false],
  ['lastSeen', 'last seen', true],
  ['uptime', 'uptime', true],
  ['up', 'up', false],
  ['producing', 'producing', true],
]

const PINS = 'chronos-bridge:pinned'

function loadPins(): Set<string> {
  try {
    return new Set(JSON.parse(localStorage.getItem(PINS) ?? '[]') as string[])
  } catch {
    return new Set()
  }
}

/**
 * Sortable node table. Clicking a row pins it to the top (kept in the
 * browser across reloads). A node that is down keeps its last figures,
 * greyed and marked as stale.
 */
export function NodeTable({
  nodes,
  now,
  inTurn,
}: {
  nodes: NodeView[]
  now: number
  /** The key of the producer whose turn it is (permissioned networks). */
  inTurn: string | null
}) {
  const [sort, setSort] = useState<{ by: Column; desc: boolean }>({ by: 'name', desc: false })
  const [pinned, setPinned] = useState<Set<string>>(loadPins)
  useEffect(() => {
    try {
      localStorage.setItem(PINS, JSON.stringify([...pinned]))
    } catch {}
  }, [pinned])
  // Stable, so that memoised rows are not re-rendered for a new handler.
  const toggle = useCallback(
    (address: string) =>
      setPinned((previous) => {
        const next = new Set(previous)
        if (!next.delete(address)) next.add(address)
        return next
      }),
    [],
  )
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
      : c === 'name'
        ? (n.name ?? n.address)
        : ((n[c as keyof NodeView] as string | number | boolean | null) ?? '')
  const rows = [...nodes].sort((a, b) => {
    const pin = Number(pinned.has(b.address)) - Number(pinned.has(a.address))
    if (pin) return pin
    const [x, y] = [value(a, sort.by), value(b, sort.by)]
    const order = x < y ? -1 : x > y ? 1 : 0
    return sort.desc ? -order : order
  })
  return (
    <div class="scroll">
      <table id="nodes">
        <thead>
          <tr>
            <th class="pin" aria-label="pinned" />
            {COLUMNS.map(([c, label, optional]) => (
              <th
                key={c}
                class={optional ? 'optional' : ''}
                onClick={() => setSort({ by: c, desc: sort.by === c ? !sort.desc : false })}
              >
                {label}
                {sort.by === c ? (sort.desc ? ' ▼' : ' ▲') : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((n) => (
            <Row
              key={n.address}
              n={n}
              best={best}
              pinned={pinned.has(n.address)}
              inTurn={n.key !== null && n.key === inTurn}
              seconds={Math.max(0, Math.round((now - n.lastSeen) / 1000))}
              toggle={toggle}
            />
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** One row; re-rendered only when its node, the best height, its pin or its age in seconds changed. */
const Row = memo(function Row({
  n,
  best,
  pinned,
  seconds,
  toggle,
  inTurn,
}: {
  inTurn: boolean
  n: NodeView
  best: number
  pinned: boolean
  seconds: number
  toggle: (address: string) => void
}) {
  const lag = best - (n.height ?? 0)
  const stale = n.up ? '' : 'stale'
  return (
    <tr
      key={n.address}
      class={`${n.up ? 'up' : 'down'}${pinned ? ' pinned' : ''}`}
      data-address={n.address}
      data-height={n.height ?? ''}
      data-pinned={pinned ? 'true' : 'false'}
      onClick={() => toggle(n.address)}
      title={pinned ? 'pinned: click to unpin' : 'click to pin to the top'}
    >
      <td class="pin">{pinned ? '◆' : ''}</td>
      <td class="name">{n.name ?? n.address.replace(/^127\.0\.0\.1:/, ':')}</td>
      <td class="mono optional">{n.address}</td>
      <td class="mono optional" title={n.key ?? 'no identity reported'}>
        {n.key ? `${n.key.slice(0, 8)}${n.producer ? ' ★' : ''}${inTurn ? ' (in turn)' : ''}` : '–'}
        {n.provenPeers !== null && n.peers !== null ? ` (${n.provenPeers}/${n.peers} proven)` : ''}
      </td>
      <td>{n.height ?? '–'}</td>
      <td class="mono optional">{n.head?.slice(0, 10) ?? '–'}</td>
      <td
        class={lag > 0 ? 'lag' : 'ok'}
        title={lag < 0 ? 'ahead of every other node: unconfirmed' : ''}
      >
        {n.up ? (lag < 0 ? `+${-lag}?` : lag) : '–'}
      </td>
      <td class={stale} title={stale && 'last known, node is down'}>
        {n.peers ?? '–'}
      </td>
      <td class={`optional ${stale}`}>{n.pending ?? '–'}</td>
      <td class={stale} title={stale && 'last known, node is down'}>
        {n.rttMs === null ? '–' : `${n.rttMs} ms`}
      </td>
      <td class="optional">{seconds} s ago</td>
      <td class="optional">{`${(n.uptime * 100).toFixed(n.uptime === 1 ? 0 : 1)} %`}</td>
      <td class={n.up ? 'ok' : 'lag'}>{n.up ? 'up' : 'down'}</td>
      <td class="optional">{n.producing === null ? '?' : n.producing ? 'yes' : 'no'}</td>
    </tr>
  )
})
