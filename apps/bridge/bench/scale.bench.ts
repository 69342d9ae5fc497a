// `pnpm bench` for the bridge at scale: 200 simulated nodes (in memory, see
// driver.ts) and 200 viewers (199 WebSocket clients in a child process plus
// one real Chromium page). Paired windows, alternating: the bridge with 200
// viewers vs the same bridge with only the page (1 viewer); and the page's
// frame intervals vs a blank page's in the same browser at the same time.
import { fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { writeResults } from '@chronos/bench-kit'
import { chromium, type Page } from 'playwright-core'
import { startBridgeServer } from '../src/server.js'
import { NetworkView } from '../src/view.js'
import { SimulatedNetwork } from './driver.js'

const NODES = Number(process.env.CHRONOS_BENCH_BRIDGE_NODES ?? 200)
const VIEWERS = Number(process.env.CHRONOS_BENCH_BRIDGE_VIEWERS ?? 200)
const ROUNDS = Number(process.env.CHRONOS_BENCH_ROUNDS ?? 7)
const WINDOW_MS = Number(process.env.CHRONOS_BENCH_BRIDGE_WINDOW_MS ?? 3000)
const staticDir = fileURLToPath(new URL('../dist-web', import.meta.url))

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN
}
const spread = (xs: number[]) => [Math.min(...xs), Math.max(...xs)].map((x) => Number(x.toFixed(3)))

if (!existsSync(staticDir)) {
  console.error('bridge bench: the page is not built (pnpm --filter @chronos/bridge build)')
  process.exit(1)
}
const view = new NetworkView()
const network = new SimulatedNetwork(view, NODES)
network.start()
const server = await startBridgeServer({ view, listen: '127.0.0.1:0', staticDir })
const viewers = fork(fileURLToPath(new URL('./viewers.ts', import.meta.url)), {
  execArgv: ['--import', 'tsx'],
})
const ask = (command: object, key: string) =>
  new Promise<Record<string, unknown>>((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (!(key in m)) return
      viewers.off('message', on)
      resolve(m)
    }
    viewers.on('message', on)
    viewers.send(command)
  })

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
})
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
const blank = await browser.newPage({ viewport: { width: 1400, height: 900 } })
await blank.setContent('<p>blank</p>')
await page.goto(`http://${server.address}/`)
await page.waitForFunction(
  (n) => document.querySelectorAll('#nodes tbody tr').length === n,
  NODES,
  { timeout: 60_000 },
)

/** Starts recording frame intervals in a page; the returned function stops and returns them. */
async function frames(p: Page): Promise<() => Promise<number[]>> {
  // A string, not a function: tsx's name-keeping helpers do not exist in the page.
  await p.evaluate(`(() => {
    window.__frames = []
    window.__on = true
    let last = performance.now()
    const tick = (t) => {
      window.__frames.push(t - last)
      last = t
      if (window.__on) requestAnimationFrame(tick)
    }
    requestAnimationFrame(tick)
  })()`)
  return async () =>
    (await p.evaluate(
      '(() => { window.__on = false; return window.__frames.slice(1) })()',
    )) as number[]
}

/** One measured window: bridge CPU share of a core, and both pages' frame intervals. */
async function window_(): Promise<{ cpu: number; page: number[]; blank: number[] }> {
  const stopPage = await frames(page)
  const stopBlank = await frames(blank)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS))
  const used = process.cpuUsage(cpu0)
  const wall = performance.now() - t0
  return {
    cpu: (used.user + used.system) / 1000 / wall,
    page: await stopPage(),
    blank: await stopBlank(),
  }
}

const pairs: { many: number; one: number; pageP95: number; blankP95: number; pageP50: number }[] =
  []
for (let round = 0; round < ROUNDS; round++) {
  const one = await window_()
  await ask({ open: VIEWERS - 1, address: server.address }, 'ready')
  const many = await window_()
  await ask({ close: true }, 'closed')
  const all = [...one.page, ...many.page]
  pairs.push({
    many: many.cpu,
    one: one.cpu,
    pageP95: quantile(many.page, 0.95),
    pageP50: quantile(all, 0.5),
    blankP95: quantile(many.blank, 0.95),
  })
  console.log(
    `round ${round + 1}: bridge cpu ${(many.cpu * 100).toFixed(1)} % of a core with ${VIEWERS} viewers, ${(one.cpu * 100).toFixed(1)} % with 1; page frame p95 ${quantile(many.page, 0.95).toFixed(1)} ms (blank page ${quantile(many.blank, 0.95).toFixed(1)} ms)`,
  )
}
const stats = server.stats()
viewers.kill()
await browser.close()
network.stop()
await server.close()

const cpuRatio = pairs.map((p) => p.many / p.one)
const frameRatio = pairs.map((p) => p.pageP95 / p.blankP95)
const result = {
  [`cpu_${VIEWERS}_viewers_vs_1`]: Number(median(cpuRatio).toFixed(3)),
  page_frame_p95_vs_blank_page: Number(median(frameRatio).toFixed(3)),
  bridge_cpu_core_share: {
    [`${VIEWERS}_viewers`]: Number(median(pairs.map((p) => p.many)).toFixed(3)),
    '1_viewer': Number(median(pairs.map((p) => p.one)).toFixed(3)),
    spread_200: spread(pairs.map((p) => p.many)),
  },
  page_frame_ms: {
    p50: Number(median(pairs.map((p) => p.pageP50)).toFixed(1)),
    p95: Number(median(pairs.map((p) => p.pageP95)).toFixed(1)),
    p95_spread: spread(pairs.map((p) => p.pageP95)),
    blank_p95: Number(median(pairs.map((p) => p.blankP95)).toFixed(1)),
  },
  spread: { cpu_ratio: spread(cpuRatio), frame_ratio: spread(frameRatio) },
  dropped: stats.dropped,
  params: { nodes: NODES, viewers: VIEWERS, rounds: ROUNDS, window_ms: WINDOW_MS },
}
console.log(`\nbridge at ${NODES} nodes, ${VIEWERS} viewers (median of ${ROUNDS} paired rounds):`)
console.log(JSON.stringify(result, null, 2))
console.log(`\nwrote ${writeResults('bridge', [], result)}`)
process.exit(0)
