// End to end: three real nodes (TCP, their APIs), the bridge watching them,
// and the page in a real headless Chromium, at desktop (1400x900) and phone
// (390x844) sizes. Screenshots go to test-results/. Every wait is on a
// state of the page; when one expires, the error says what was missing
// (for a block: which node lacked it, and what that node's store holds).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Block, createGenesis } from '@chronos/codec'
import type { ChronosNode } from '@chronos/node'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import {
  type BridgeServer,
  type BridgeTarget,
  HistoryStore,
  holdsBlock,
  NetworkView,
  Observer,
  startBridgeServer,
} from '../src/index.js'
import { startNode } from './nodes.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const staticDir = fileURLToPath(new URL('../dist-web', import.meta.url))
const artifacts = fileURLToPath(new URL('../test-results', import.meta.url))
const DESKTOP = { width: 1400, height: 900 }
const PHONE = { width: 390, height: 844 }
const nodes: ChronosNode[] = []
let observer: Observer | undefined
let bridge: BridgeServer | undefined
let browser: Browser | undefined
let history: HistoryStore | undefined
const historyDir = mkdtempSync(join(tmpdir(), 'bridge-e2e-history-'))

afterAll(async () => {
  await browser?.close()
  await bridge?.close()
  await observer?.stop()
  await history?.close()
  rmSync(historyDir, { recursive: true, force: true })
  await Promise.all(nodes.map((n) => n.stop()))
})

/** One headless Chromium for the file, launched on first use. */
async function headless(): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  })
  return browser
}

/** A node of `genesis` with its API; the bridge watches it through both. */
async function ourNode(genesis: Block, peers: string[], produce = true, name?: string) {
  // The node composes its API (config.api): it starts and stops with the node.
  const node = await startNode(genesis, { peers, produce, api: '127.0.0.1:0' })
  nodes.push(node)
  const target: BridgeTarget = { p2p: node.address, api: node.apiAddress!, name }
  return { node, target }
}

/**
 * Waits for a state of the page (`check` runs in the page on every frame).
 * On expiry, throws what was awaited plus `diagnose()`: the state that was
 * missing, not only that time ran out.
 */
async function until<A>(
  page: Page,
  what: string,
  check: (arg: A) => unknown,
  arg: A,
  diagnose: () => Promise<string> | string,
  timeout = 30_000,
) {
  try {
    return await page.waitForFunction(check as never, arg, { timeout })
  } catch (error) {
    throw new Error(`waited ${timeout / 1000} s for ${what}; ${await diagnose()}`, {
      cause: error,
    })
  }
}

/** The page's node rows as the page shows them. */
const rows = (page: Page) =>
  page.$$eval('#nodes tbody tr', (trs) =>
    trs.map((r) => `${r.querySelector('.name')?.textContent} h=${r.getAttribute('data-height')}`),
  )

/**
 * For the latest confirmed blocks the bridge knows: which watched node lacked
 * each one, according to the bridge, and what that node's own store holds at
 * that height (so a bridge bug and a node that fell behind read differently).
 */
async function whoLacks(view: NetworkView, watched: ChronosNode[], names: Map<string, string>) {
  const snap = view.snapshot()
  const confirmed = snap.blocks.filter((b) => b.confirmed && b.height !== null).slice(-4)
  if (!confirmed.length) return 'the bridge knows no confirmed block'
  const lines = await Promise.all(
    confirmed.map(async (b) => {
      const holders = new Set(b.reach.filter((r) => holdsBlock(r.arrival)).map((r) => r.node))
      const lacking = await Promise.all(
        watched
          .filter((n) => !holders.has(n.address))
          .map(async (n) => {
            const own = await n.store.getByHeight(b.height!)
            const has = own?.block_header.hash === b.hash
            return `${names.get(n.address) ?? n.address} (store height ${n.store.height()}, ${
              has
                ? 'holds it: the bridge missed it'
                : `has ${own?.block_header.hash.slice(0, 8) ?? 'nothing'} there`
            })`
          }),
      )
      return `#${b.height} ${b.hash.slice(0, 8)} lacked by ${lacking.join(', ') || 'nobody'}`
    }),
  )
  return lines.join('; ')
}

/** The page fits the viewport's width (once a resize has settled): nothing is laid out off-screen to the right. */
async function fitsWidth(page: Page, width: number) {
  await until(
    page,
    `the page to fit ${width} px`,
    (w: number) => document.documentElement.scrollWidth <= w,
    width,
    () =>
      page.evaluate(
        `(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > ${width + 1}).slice(0, 8).map((e) => e.tagName + '#' + e.id + '.' + e.className + ' right=' + Math.round(e.getBoundingClientRect().right)).join(', '))()`,
      ) as Promise<string>,
  )
  for (const selector of ['#topology', '#summary', '#nodes', '#histogram', '#cdf']) {
    const box = await page.locator(selector).boundingBox()
    expect(box, `${selector} is laid out`).not.toBeNull()
    expect(box!.x, `${selector} starts on screen`).toBeGreaterThanOrEqual(0)
    // Tables may scroll inside their section; charts and the topology must fit.
    if (selector !== '#nodes')
      expect(box!.x + box!.width, `${selector} ends on screen`).toBeLessThanOrEqual(width + 1)
  }
}

describe('the observer page', () => {
  it('shows 3 named nodes (one discovered) at equal, rising heights, blocks reaching all, its charts, pins, a phone layout, a node down, and keeps its history across a bridge restart', async () => {
    expect(
      existsSync(staticDir),
      'the page is built by `pnpm build` (turbo builds it before this test)',
    ).toBe(true)
    const genesis = createGenesis({ network: 'bridge-e2e', roundMs: 600, timestamp: Date.now() })
    const made: Awaited<ReturnType<typeof ourNode>>[] = []
    for (const [i, name] of ['alpha', 'beta', 'gamma'].entries())
      made.push(
        await ourNode(
          genesis,
          made.map((m) => m.target.p2p),
          i < 2,
          name,
        ),
      )
    const names = new Map(made.map((m) => [m.node.address, m.target.name!]))
    const watched = made.map((m) => m.node)
    const view = new NetworkView()
    history = await HistoryStore.open(historyDir)
    await history.attach(view)
    // The bridge is told of two nodes; it must find the third through their peer lists.
    observer = new Observer({ view, targets: made.slice(0, 2).map((m) => m.target), pollMs: 300 })
    await observer.start()
    bridge = await startBridgeServer({ view, listen: '127.0.0.1:0', staticDir })
    const context = await (await headless()).newContext({ viewport: DESKTOP })
    const page = await context.newPage()
    await page.goto(`http://${bridge.address}/`)

    const equalHeights = async (above: number) =>
      Number(
        await (
          await until(
            page,
            `3 rows at one height above ${above}`,
            (min: number) => {
              const heights = [...document.querySelectorAll('#nodes tbody tr')].map((r) =>
                Number(r.getAttribute('data-height')),
              )
              return heights.length === 3 && heights.every((h) => h === heights[0] && h > min)
                ? heights[0]
                : false
            },
            above,
            async () =>
              `page rows: ${(await rows(page)).join(', ')}; stores: ${watched.map((n) => `${names.get(n.address)} h=${n.store.height()}`).join(', ')}`,
          )
        ).jsonValue(),
      )
    const first = await equalHeights(0)
    const later = await equalHeights(first)
    expect(later).toBeGreaterThan(first)
    await until(
      page,
      'two links in the topology',
      () => Number(document.querySelector('#topology')?.getAttribute('data-edges')) >= 2,
      null,
      () => `edges the bridge knows: ${JSON.stringify(view.snapshot().edges)}`,
    )
    await until(
      page,
      'a confirmed block that reached all 3 nodes',
      () =>
        [...document.querySelectorAll('#blocks tbody tr.confirmed')].some(
          (r) => r.getAttribute('data-t100') !== '',
        ),
      null,
      () => whoLacks(view, watched, names),
    )
    await until(
      page,
      "a block's path (a hop with its sender)",
      () => Number(document.querySelector('#topology')?.getAttribute('data-path')) >= 1,
      null,
      () => `latest block reach: ${JSON.stringify(view.snapshot().blocks.at(-1)?.reach)}`,
    )
    // Charts: the CDF of the latest confirmed block, the histogram, block times.
    await until(
      page,
      'the CDF with p50, the propagation histogram and the block-time chart',
      () =>
        document.querySelector('#cdf')?.getAttribute('data-p50') !== '' &&
        document.querySelector('#cdf') !== null &&
        Number(document.querySelector('#histogram')?.getAttribute('data-blocks')) >= 1 &&
        Number(document.querySelector('#block-times')?.getAttribute('data-count')) >= 1,
      null,
      () => whoLacks(view, watched, names),
    )
    // Both read in one evaluation: the page is live, a block arriving between two reads moves one.
    const histogram = await page.$eval('#histogram', (chart) => ({
      total: [...chart.querySelectorAll('[data-count]')].reduce(
        (a, b) => a + Number(b.getAttribute('data-count')),
        0,
      ),
      blocks: Number(chart.getAttribute('data-blocks')),
    }))
    expect(histogram.total).toBe(histogram.blocks)
    expect(await page.textContent('#connection')).toContain('3/3 nodes up')
    const summary = await page.textContent('#summary')
    expect(summary).toMatch(/best block#\d+/)
    expect(summary).toMatch(/avg block time\d+\.\d+ s/)
    expect(summary).toContain('nodes up3/3')
    // Names from --node NAME=..., and the discovered node by its address.
    const shown = await page.$$eval('#nodes tbody td.name', (tds) => tds.map((t) => t.textContent))
    expect(shown).toEqual(expect.arrayContaining(['alpha', 'beta']))
    expect(shown).toHaveLength(3)
    // Pinning: a clicked row goes to the top and stays pinned across a reload.
    await page.click('#nodes tbody tr:has(td.name:text-is("beta"))')
    await until(
      page,
      'beta pinned at the top',
      () =>
        document.querySelector('#nodes tbody tr')?.getAttribute('data-pinned') === 'true' &&
        document.querySelector('#nodes tbody tr .name')?.textContent === 'beta',
      null,
      async () => `rows: ${(await rows(page)).join(', ')}`,
    )
    await page.reload()
    await until(
      page,
      'beta still pinned after a reload',
      () =>
        document.querySelector('#nodes tbody tr[data-pinned="true"] .name')?.textContent === 'beta',
      null,
      async () => `rows: ${(await rows(page)).join(', ')}`,
    )
    await until(
      page,
      'charts back after the reload',
      () =>
        document.querySelector('#histogram') !== null && document.querySelector('#cdf') !== null,
      null,
      () => 'no charts',
    )
    const icon = await fetch(`http://${bridge.address}/favicon.ico`)
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml'])
    mkdirSync(artifacts, { recursive: true })
    await fitsWidth(page, DESKTOP.width)
    await page.screenshot({ path: `${artifacts}/bridge-e2e-desktop.png`, fullPage: true })

    // A phone: one column, nothing off-screen.
    const phone = await (await headless()).newPage({ viewport: PHONE, isMobile: true })
    await phone.goto(`http://${bridge.address}/`)
    await until(
      phone,
      'the phone page live with 3 nodes and its charts',
      () =>
        document.querySelectorAll('#nodes tbody tr').length === 3 &&
        document.querySelector('#histogram') !== null &&
        document.querySelector('#cdf') !== null,
      null,
      async () => `rows: ${(await rows(phone)).join(', ')}`,
    )
    await fitsWidth(phone, PHONE.width)
    await phone.screenshot({ path: `${artifacts}/bridge-e2e-phone.png`, fullPage: true })
    await phone.close()

    // A node goes down: its row is greyed, its last peers and rtt marked stale.
    const gamma = made[2]!
    await gamma.node.stop()
    await until(
      page,
      'gamma (discovered) shown down with stale figures',
      (address: string) => {
        const row = document.querySelector(`#nodes tbody tr[data-address="${address}"]`)
        return row?.classList.contains('down') && row.querySelectorAll('td.stale').length >= 2
      },
      gamma.node.address,
      async () =>
        `rows: ${(await rows(page)).join(', ')}; bridge: ${JSON.stringify(view.snapshot().nodes.map((n) => [n.address, n.up]))}`,
    )
    expect(await page.textContent('#connection')).toContain('2/3 nodes up')

    // The bridge restarts (a new process would: new view, its history from its LevelDB) on the
    // same port, with production paused so that every block the page shows after it came from disk.
    for (const m of made.slice(0, 2)) m.node.setProducing(false)
    const kept = await page.evaluate(() => ({
      confirmed: Number(document.querySelector('#histogram')?.getAttribute('data-blocks')),
      hash: document.querySelector('#blocks tbody tr.confirmed')?.getAttribute('data-hash') ?? '',
    }))
    expect(kept.confirmed).toBeGreaterThan(0)
    const address = bridge.address
    await bridge.close()
    await observer.stop()
    await history.close()
    await until(
      page,
      'the page noticing the bridge is gone',
      () => document.querySelector('#connection')?.textContent?.includes('reconnecting'),
      null,
      async () => `connection: ${await page.textContent('#connection')}`,
    )
    const restarted = new NetworkView()
    history = await HistoryStore.open(historyDir)
    await history.attach(restarted)
    observer = new Observer({
      view: restarted,
      targets: made.slice(0, 2).map((m) => m.target),
      pollMs: 300,
    })
    await observer.start()
    bridge = await startBridgeServer({ view: restarted, listen: address, staticDir })
    await until(
      page,
      'the page live again after the restart, with the blocks it showed before',
      (before: { confirmed: number; hash: string }) =>
        document.querySelector('#connection')?.textContent?.includes('2/2 nodes up') &&
        Number(document.querySelector('#histogram')?.getAttribute('data-blocks')) >=
          before.confirmed &&
        document.querySelector(`#blocks tbody tr[data-hash="${before.hash}"]`) !== null,
      kept,
      async () =>
        `connection: ${await page.textContent('#connection')}; histogram blocks ${await page.getAttribute('#histogram', 'data-blocks')} (had ${kept.confirmed}); restored ${restarted.snapshot().blocks.length} blocks`,
    )
    for (const m of made.slice(0, 2)) m.node.setProducing(true)
    await context.close()
  }, 150_000)

  it('shows a fork between two isolated producers, then the reorg when they meet', async () => {
    const genesis = createGenesis({ network: 'bridge-fork', roundMs: 600, timestamp: Date.now() })
    const x = await ourNode(genesis, [], true, 'x')
    const y = await ourNode(genesis, [], true, 'y')
    const view = new NetworkView()
    const watcher = new Observer({ view, targets: [x.target, y.target], pollMs: 300 })
    await watcher.start()
    const server = await startBridgeServer({ view, listen: '127.0.0.1:0', staticDir })
    const events = () => JSON.stringify(view.snapshot().events.map((e) => e.kind))
    try {
      const page = await (await headless()).newPage({ viewport: DESKTOP })
      await page.goto(`http://${server.address}/`)
      // Each confirms its own block per round: same heights, different heads.
      await until(
        page,
        'a fork event',
        () => document.querySelector('.events li.fork'),
        null,
        () =>
          `events the bridge has: ${events()}; heads: ${x.node.store.height()}:${x.node.store.head().block_header.hash.slice(0, 8)} vs ${y.node.store.height()}:${y.node.store.head().block_header.hash.slice(0, 8)}`,
      )
      x.node.peers.connect(y.node.address)
      // They meet; the worse chain is replaced, and that node reports the reorg.
      await until(
        page,
        'a reorg event',
        () => document.querySelector('.events li.reorg'),
        null,
        () => `events the bridge has: ${events()}`,
      )
      const reorg = (await page.textContent('.events li.reorg')) ?? ''
      expect(reorg).toMatch(/replaced \d+ blocks? above \d+/)
      await page.screenshot({ path: `${artifacts}/bridge-fork-desktop.png`, fullPage: true })
      await page.setViewportSize(PHONE)
      await fitsWidth(page, PHONE.width)
      await page.screenshot({ path: `${artifacts}/bridge-fork-phone.png`, fullPage: true })
    } finally {
      await server.close()
      await watcher.stop()
    }
  }, 90_000)
})
