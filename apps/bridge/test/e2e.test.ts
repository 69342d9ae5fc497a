// End to end: three real nodes (TCP, their APIs), the bridge watching them,
// and the page in a real headless Chromium. Saves a screenshot to
// test-results/bridge-e2e.png.
import { existsSync, mkdirSync } from 'node:fs'
import type { Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { type Block, createGenesis } from '@chronos/codec'
import { apiAddress, type ChronosNode, startApi } from '@chronos/node'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { type BridgeServer, NetworkView, Observer, startBridgeServer } from '../src/index.js'
import { startNode } from './nodes.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const staticDir = fileURLToPath(new URL('../dist-web', import.meta.url))
const artifacts = fileURLToPath(new URL('../test-results', import.meta.url))
const nodes: ChronosNode[] = []
const apis: Server[] = []
let observer: Observer | undefined
let bridge: BridgeServer | undefined
let browser: Browser | undefined

afterAll(async () => {
  await browser?.close()
  await bridge?.close()
  await observer?.stop()
  for (const api of apis) api.close()
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
async function ourNode(genesis: Block, peers: string[], produce = true) {
  const node = await startNode(genesis, { peers, produce })
  nodes.push(node)
  const api = await startApi(node, '127.0.0.1:0')
  apis.push(api)
  return { node, target: { p2p: node.address, api: apiAddress(api) } }
}

describe('the observer page', () => {
  it('shows 3 nodes (one discovered) at equal, rising heights, their links, blocks spreading, and survives a bridge restart', async () => {
    expect(
      existsSync(staticDir),
      'the page is built by `pnpm build` (turbo builds it before this test)',
    ).toBe(true)
    const genesis = createGenesis({ network: 'bridge-e2e', roundMs: 600, timestamp: Date.now() })
    const targets: { p2p: string; api: string }[] = []
    for (let i = 0; i < 3; i++)
      targets.push(
        (
          await ourNode(
            genesis,
            targets.map((t) => t.p2p),
            i < 2,
          )
        ).target,
      )
    const view = new NetworkView()
    // The bridge is told of two nodes; it must find the third through their peer lists.
    observer = new Observer({ view, targets: targets.slice(0, 2), pollMs: 300 })
    await observer.start()
    bridge = await startBridgeServer({ view, listen: '127.0.0.1:0', staticDir })
    const page = await (await headless()).newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(`http://${bridge.address}/`)

    const equalHeights = (above: number) =>
      page.waitForFunction(
        (min) => {
          const heights = [...document.querySelectorAll('#nodes tbody tr')].map((r) =>
            Number(r.getAttribute('data-height')),
          )
          return heights.length === 3 && heights.every((h) => h === heights[0] && h > min)
            ? heights[0]
            : false
        },
        above,
        { timeout: 30_000 },
      )
    const first = Number(await (await equalHeights(0)).jsonValue())
    const later = Number(await (await equalHeights(first)).jsonValue())
    expect(later).toBeGreaterThan(first)
    await page.waitForFunction(
      () => Number(document.querySelector('#topology')?.getAttribute('data-edges')) >= 2,
      null,
      {
        timeout: 30_000,
      },
    )
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('#blocks tbody tr')].some(
          (r) => r.getAttribute('data-t100') !== '',
        ),
      null,
      { timeout: 30_000 },
    )
    await page.waitForFunction(
      () => Number(document.querySelector('#topology')?.getAttribute('data-path')) >= 1,
      null,
      {
        timeout: 30_000,
      },
    )
    expect(await page.textContent('#connection')).toContain('3/3 nodes up')
    mkdirSync(artifacts, { recursive: true })
    await page.screenshot({ path: `${artifacts}/bridge-e2e.png`, fullPage: true })

    // The bridge restarts on the same port: the page notices, reconnects and is live again.
    const address = bridge.address
    await bridge.close()
    await page.waitForFunction(() =>
      document.querySelector('#connection')?.textContent?.includes('reconnecting'),
    )
    bridge = await startBridgeServer({ view, listen: address, staticDir })
    await page.waitForFunction(
      () => document.querySelector('#connection')?.textContent?.includes('3/3 nodes up'),
      null,
      {
        timeout: 30_000,
      },
    )
  }, 120_000)
  it('shows a fork between two isolated producers, then the reorg when they meet', async () => {
    const genesis = createGenesis({ network: 'bridge-fork', roundMs: 600, timestamp: Date.now() })
    const x = await ourNode(genesis, [])
    const y = await ourNode(genesis, [])
    const view = new NetworkView()
    const watcher = new Observer({ view, targets: [x.target, y.target], pollMs: 300 })
    await watcher.start()
    const server = await startBridgeServer({ view, listen: '127.0.0.1:0', staticDir })
    try {
      const page = await (await headless()).newPage({ viewport: { width: 1400, height: 900 } })
      await page.goto(`http://${server.address}/`)
      // Each confirms its own block per round: same heights, different heads.
      await page.waitForSelector('.events li.fork', { timeout: 30_000 })
      x.node.peers.connect(y.node.address)
      // They meet; the worse chain is replaced, and that node reports the reorg.
      await page.waitForSelector('.events li.reorg', { timeout: 30_000 })
      const reorg = (await page.textContent('.events li.reorg')) ?? ''
      expect(reorg).toMatch(/replaced \d+ blocks? above \d+/)
      await page.screenshot({ path: `${artifacts}/bridge-fork.png`, fullPage: true })
    } finally {
      await server.close()
      await watcher.stop()
    }
  }, 90_000)
})
