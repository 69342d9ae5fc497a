// The page in a real Chromium against a bridge that skips a seq: it must not
// apply the delta after the gap, and must ask for (and apply) a new snapshot.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { type WebSocket, WebSocketServer } from 'ws'
import { BRIDGE_PROTOCOL_VERSION, type NodeView, type ServerMessage } from '../src/protocol.js'
import { readStatic, staticFile } from '../src/static.js'

const staticDir = fileURLToPath(new URL('../dist-web', import.meta.url))
let browser: Browser | undefined
let server: Server | undefined
afterAll(async () => {
  await browser?.close()
  server?.closeAllConnections()
  server?.close()
})

const node = (height: number): NodeView => ({
  address: '127.0.0.1:7001',
  name: 'solo',
  height,
  head: 'a'.repeat(64),
  rttMs: null,
  lastSeen: Date.now(),
  up: true,
  producing: null,
  peers: null,
  pending: null,
  uptime: 1,
  key: null,
  producer: null,
  provenPeers: null,
  source: 'p2p',
})

const snapshot = (seq: number, height: number): ServerMessage => ({
  v: BRIDGE_PROTOCOL_VERSION,
  type: 'snapshot',
  seq,
  data: {
    network: { network: 'seq-test', producers: null, inTurn: null },
    nodes: [node(height)],
    edges: [],
    blocks: [],
    events: [],
  },
})

describe('the page and the bridge protocol seq', () => {
  it('drops the delta after a gap and resubscribes, then shows the new snapshot', async () => {
    let subscribes = 0
    server = createServer((req, res) => {
      const file = staticFile(staticDir, new URL(req.url ?? '/', 'http://x').pathname)
      if (!file) return res.writeHead(404).end()
      res.writeHead(200, { 'content-type': file.type }).end(readStatic(file))
    })
    const wss = new WebSocketServer({ server, path: '/ws' })
    wss.on('connection', (ws: WebSocket) =>
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString()) as { type: string }
        if (message.type !== 'subscribe') return
        subscribes++
        if (subscribes === 1) {
          ws.send(JSON.stringify(snapshot(10, 5)))
          ws.send(
            JSON.stringify({
              v: BRIDGE_PROTOCOL_VERSION,
              type: 'delta',
              seq: 11,
              data: { nodes: [node(6)] },
            }),
          )
          // seq 12 never comes: 13 follows a gap and must not be applied.
          ws.send(
            JSON.stringify({
              v: BRIDGE_PROTOCOL_VERSION,
              type: 'delta',
              seq: 13,
              data: { nodes: [node(99)] },
            }),
          )
        } else ws.send(JSON.stringify(snapshot(20, 50)))
      }),
    )
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    const page = await browser.newPage()
    const heights: string[] = []
    await page.exposeFunction('reportHeight', (h: string) => heights.push(h))
    await page.addInitScript(`new MutationObserver(() => {
      const row = document.querySelector('#nodes tbody tr')
      if (row) window.reportHeight(row.getAttribute('data-height'))
    }).observe(document, { subtree: true, childList: true, attributes: true })`)
    await page.goto(`http://${address}/`)
    await page.waitForFunction(
      () => document.querySelector('#nodes tbody tr')?.getAttribute('data-height') === '50',
      null,
      { timeout: 30_000 },
    )
    expect(subscribes).toBe(2)
    expect(await page.evaluate(() => document.documentElement.dataset.resyncs)).toBe('1')
    expect(heights).not.toContain('99')
    expect(heights).toContain('50')
  })
})
