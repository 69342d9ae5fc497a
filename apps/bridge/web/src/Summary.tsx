import type { NetworkInfo } from '../../src/protocol.ts'
import type { Summary } from './stats.ts'

const seconds = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(2)} s`)

/** The bar at the top: what a watcher checks first. */
export function SummaryBar({
  summary,
  network,
  now,
}: {
  summary: Summary
  network: NetworkInfo
  now: number
}) {
  const since = summary.lastBlockAt === null ? null : Math.max(0, now - summary.lastBlockAt)
  const items: [string, string, string][] = [
    ['best', 'best block', summary.best === null ? '–' : `#${summary.best}`],
    ['last', 'last block', since === null ? '–' : `${Math.round(since / 1000)} s ago`],
    ['avg-block', 'avg block time', seconds(summary.avgBlockMs)],
    [
      'avg-propagation',
      'avg propagation',
      summary.avgPropagationMs === null ? '–' : `${Math.round(summary.avgPropagationMs)} ms`,
    ],
    ['up', 'nodes up', `${summary.up}/${summary.total}`],
    ['pending', 'pending txs', summary.pending === null ? '–' : String(summary.pending)],
  ]
  if (network.producers)
    items.push(['producers', 'producers', `${network.producers.length} (permissioned)`])
  return (
    <dl id="summary">
      {items.map(([id, label, value]) => (
        <div key={id} data-item={id}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  )
}
