import type { BlockView } from '../../src/protocol.ts'
import { blockTimes, cdf, HISTOGRAM_BIN_MS, HISTOGRAM_BINS, histogram } from './stats.ts'

const W = 320
const H = 150
const PAD = { l: 34, r: 8, t: 14, b: 26 }
const plotW = W - PAD.l - PAD.r
const plotH = H - PAD.t - PAD.b

/** Round tick steps for an axis reaching `top`. */
function ticks(top: number, integer: boolean, count = 4): number[] {
  const raw = top / count
  const found = [1, 2, 5, 10]
    .map((m) => m * 10 ** Math.floor(Math.log10(raw)))
    .find((s) => s >= raw)!
  const step = integer ? Math.max(1, found) : found
  return Array.from({ length: Math.floor(top / step) + 1 }, (_, i) => i * step)
}

function YAxis({
  top,
  label,
  format = String,
  integer = false,
}: {
  top: number
  label: string
  format?: (v: number) => string
  integer?: boolean
}) {
  return (
    <g class="axis">
      {ticks(top, integer).map((v) => {
        const y = PAD.t + plotH - (v / top) * plotH
        return (
          <g key={v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y} y2={y} class="grid" />
            <text x={PAD.l - 4} y={y + 3} text-anchor="end">
              {format(v)}
            </text>
          </g>
        )
      })}
      <text x={4} y={10}>
        {label}
      </text>
    </g>
  )
}

/** Time for confirmed blocks to reach every node: fixed 100 ms bins, counts on the y axis. */
export function Histogram({ chain }: { chain: readonly BlockView[] }) {
  const times = chain.flatMap((b) => (b.t100 === null ? [] : [b.t100]))
  if (!times.length)
    return <p id="histogram-empty">No confirmed block has reached every node yet.</p>
  const counts = histogram(times)
  const top = Math.max(...counts, 1)
  const slot = plotW / counts.length
  return (
    <svg id="histogram" viewBox={`0 0 ${W} ${H}`} role="img" data-blocks={times.length}>
      <title>{`Time for ${times.length} confirmed blocks to reach every node`}</title>
      <YAxis top={top} label="blocks" integer />
      {counts.map((c, i) => (
        <g key={i} data-bin={i} data-count={c}>
          <rect
            x={PAD.l + i * slot + 1}
            y={PAD.t + plotH - (c / top) * plotH}
            width={slot - 2}
            height={(c / top) * plotH}
            class={i === HISTOGRAM_BINS ? 'bar overflow' : 'bar'}
          />
          {c > 0 && (
            <text
              x={PAD.l + (i + 0.5) * slot}
              y={PAD.t + plotH - (c / top) * plotH - 2}
              text-anchor="middle"
            >
              {c}
            </text>
          )}
          {i % 2 === 0 && (
            <text x={PAD.l + i * slot} y={H - 14} text-anchor="middle">
              {i * HISTOGRAM_BIN_MS}
            </text>
          )}
        </g>
      ))}
      <text
        x={W - PAD.r}
        y={H - 2}
        text-anchor="end"
      >{`ms to 100 % (last bin ≥ ${HISTOGRAM_BINS * HISTOGRAM_BIN_MS})`}</text>
    </svg>
  )
}

/** Seconds between consecutive confirmed blocks, with their average. */
export function BlockTimes({ chain }: { chain: readonly BlockView[] }) {
  const times = blockTimes(chain).slice(-30)
  if (!times.length)
    return <p id="block-times-empty">Waiting for two consecutive confirmed blocks.</p>
  const top = Math.max(...times.map((t) => t.ms), 1) * 1.1
  const avg = times.reduce((a, t) => a + t.ms, 0) / times.length
  const slot = plotW / times.length
  const yAvg = PAD.t + plotH - (avg / top) * plotH
  return (
    <svg id="block-times" viewBox={`0 0 ${W} ${H}`} role="img" data-count={times.length}>
      <title>Time between confirmed blocks</title>
      <YAxis top={top} label="s" format={(v) => (v / 1000).toFixed(1)} />
      {times.map((t, i) => (
        <rect
          key={t.height}
          x={PAD.l + i * slot + 1}
          y={PAD.t + plotH - (t.ms / top) * plotH}
          width={Math.max(1, slot - 2)}
          height={(t.ms / top) * plotH}
          class="bar"
        >
          <title>{`#${t.height}: ${(t.ms / 1000).toFixed(2)} s`}</title>
        </rect>
      ))}
      <line x1={PAD.l} x2={W - PAD.r} y1={yAvg} y2={yAvg} class="avg" />
      <text x={W - PAD.r} y={yAvg - 3} text-anchor="end">{`avg ${(avg / 1000).toFixed(2)} s`}</text>
      <text x={PAD.l} y={H - 14}>{`#${times[0]!.height}`}</text>
      <text x={W - PAD.r} y={H - 14} text-anchor="end">{`#${times.at(-1)!.height}`}</text>
    </svg>
  )
}

/** One block's first-seen CDF over the nodes, with p50 / p95 / p99 marked. */
export function Cdf({ block, nodes }: { block: BlockView | undefined; nodes: number }) {
  if (!block) return <p id="cdf-empty">No block yet.</p>
  const points = cdf(block, nodes)
  const right = Math.max(block.t100 ?? 0, points.at(-1)?.ms ?? 0, 1) * 1.05
  const x = (ms: number) => PAD.l + (ms / right) * plotW
  const y = (share: number) => PAD.t + plotH - share * plotH
  let path = `M${x(0)},${y(0)}`
  for (const p of points) path += ` H${x(p.ms)} V${y(p.share)}`
  const marks = [
    ['p50', block.t50],
    ['p95', block.t95],
    ['p99', block.t99],
  ] as const
  return (
    <svg
      id="cdf"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      data-hash={block.hash}
      data-p50={block.t50 ?? ''}
      data-p95={block.t95 ?? ''}
      data-p99={block.t99 ?? ''}
    >
      <title>{`Share of nodes holding block ${block.hash.slice(0, 10)} over time`}</title>
      <YAxis top={1} label="share" format={(v) => `${Math.round(v * 100)}%`} />
      <path d={path} class="cdf" />
      {marks.map(([name, ms], i) => {
        if (ms === null) return null
        // Labels right of their line, or left of it near the right edge; one row each so they never overlap.
        const flip = x(ms) > PAD.l + plotW * 0.6
        return (
          <g key={name} class="mark">
            <line x1={x(ms)} x2={x(ms)} y1={PAD.t} y2={PAD.t + plotH} />
            <text
              x={x(ms) + (flip ? -3 : 3)}
              y={PAD.t + 22 + i * 11}
              text-anchor={flip ? 'end' : 'start'}
            >{`${name} ${Math.round(ms)} ms`}</text>
          </g>
        )
      })}
      <text x={PAD.l} y={H - 14}>
        0
      </text>
      <text x={W - PAD.r} y={H - 14} text-anchor="end">{`${Math.round(right)} ms`}</text>
      <text
        x={W - PAD.r}
        y={H - 2}
        text-anchor="end"
      >{`#${block.height ?? '?'} ${block.hash.slice(0, 8)}: ms after first sighting`}</text>
    </svg>
  )
}
