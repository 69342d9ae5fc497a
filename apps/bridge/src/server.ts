import { existsSync, readFileSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { extname, join, normalize } from 'node:path'
import type { Duplex } from 'node:stream'
import { type Logger, silentLogger } from '@chronos/codec'
import { type WebSocket, WebSocketServer } from 'ws'
import { BRIDGE_PROTOCOL_VERSION, clientMessageSchema, type ServerMessage } from './protocol.js'
import type { NetworkView } from './view.js'

export interface BridgeServerOptions {
  view: NetworkView
  /** Default 127.0.0.1:8080; port 0 picks one. */
  listen?: string
  /** The built page (dist-web). */
  staticDir?: string
  /** Browsers at once; more are refused with 503. Default 500. */
  maxClients?: number
  /** Origins allowed to open the WebSocket. Default: same origin (and non-browser clients). */
  allowedOrigins?: readonly string[]
  /** A client whose send buffer passes this misses deltas and is resnapshotted once it drains. Default 1 MiB. */
  softBufferBytes?: number
  /** A client whose send buffer passes this is dropped. Default 8 MiB. */
  hardBufferBytes?: number
  /** How often the view's changes go out. Default 250 ms. */
  deltaIntervalMs?: number
  logger?: Logger
}

export interface BridgeServer {
  /** `host:port` it listens on. */
  address: string
  clientCount(): number
  close(): Promise<void>
}

interface Client {
  ws: WebSocket
  subscribed: boolean
  /** Missed deltas while its buffer was full: needs a snapshot. */
  stale: boolean
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
}

/**
 * Serves the page and the browser WebSocket (`/ws`) on one port. One JSON
 * text per delta is built once and sent to every subscribed browser; a
 * browser that does not keep up misses deltas and gets a fresh snapshot
 * when it catches up, or is dropped, so it never holds up the others.
 */
export async function startBridgeServer(options: BridgeServerOptions): Promise<BridgeServer> {
  const logger = options.logger ?? silentLogger
  const maxClients = options.maxClients ?? 500
  const soft = options.softBufferBytes ?? 1024 * 1024
  const hard = options.hardBufferBytes ?? 8 * 1024 * 1024
  const view = options.view
  const clients = new Set<Client>()
  let seq = 0

  const envelope = (message: Omit<ServerMessage, 'v'>) =>
    JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, ...message })
  const snapshot = (client: Client) => {
    client.stale = false
    client.ws.send(envelope({ type: 'snapshot', seq, data: view.snapshot() }))
  }

  /** Drops a browser past the hard cap; true when it can take a message now. */
  const writable = (client: Client) => {
    const buffered = client.ws.bufferedAmount
    if (buffered > hard) {
      logger.warn({ buffered }, 'browser dropped: not reading')
      client.ws.terminate()
      return false
    }
    if (client.stale && buffered < soft / 2) snapshot(client)
    else if (buffered > soft) client.stale = true
    return !client.stale
  }
  const onDelta = (delta: unknown) => {
    seq++
    const text = envelope({ type: 'delta', seq, data: delta } as Omit<ServerMessage, 'v'>)
    for (const client of clients) if (client.subscribed && writable(client)) client.ws.send(text)
  }
  view.on('delta', onDelta)
  const flusher = setInterval(() => {
    view.flush()
    // A browser that caught up gets its snapshot even when nothing new happens.
    for (const client of clients) if (client.subscribed && client.stale) writable(client)
  }, options.deltaIntervalMs ?? 250)

  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://bridge').pathname
    const file = staticFile(options.staticDir, path)
    if (!file) {
      response
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(
          options.staticDir && existsSync(options.staticDir)
            ? 'not found\n'
            : 'the page is not built: run `pnpm build`\n',
        )
      return
    }
    response.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' })
    response.end(readFileSync(file))
  })
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 })
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, why: string) => {
      logger.warn({ origin: request.headers.origin, reason: why }, 'browser refused')
      socket.end(`HTTP/1.1 ${status} ${why}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
    }
    if (new URL(request.url ?? '/', 'http://bridge').pathname !== '/ws')
      return refuse(404, 'Not Found')
    if (!originAllowed(request, options.allowedOrigins)) return refuse(403, 'Forbidden')
    if (clients.size >= maxClients) return refuse(503, 'Service Unavailable')
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws))
  })

  function accept(ws: WebSocket) {
    const client: Client = { ws, subscribed: false, stale: false }
    clients.add(client)
    ws.on('close', () => clients.delete(client))
    ws.on('error', () => clients.delete(client))
    ws.on('message', (data, isBinary) => {
      let parsed: unknown
      try {
        parsed = isBinary ? undefined : JSON.parse(data.toString())
      } catch {}
      const message = clientMessageSchema.safeParse(parsed)
      if (!message.success) {
        ws.close(1008, 'only subscribe and ping are accepted')
        return
      }
      if (message.data.type === 'subscribe') {
        client.subscribed = true
        snapshot(client)
      } else {
        ws.send(envelope({ type: 'pong', seq, data: { t: message.data.data.t } }))
      }
    })
  }

  const [host, port] = splitHostPort(options.listen ?? '127.0.0.1:8080')
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const bound = server.address()
  const address = typeof bound === 'object' && bound ? `${host}:${bound.port}` : String(bound)
  return {
    address,
    clientCount: () => clients.size,
    async close() {
      clearInterval(flusher)
      view.off('delta', onDelta)
      for (const client of clients) client.ws.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function splitHostPort(address: string): [string, number] {
  const at = address.lastIndexOf(':')
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), Number(address.slice(at + 1))]
}

function originAllowed(request: IncomingMessage, allowed: readonly string[] | undefined): boolean {
  const origin = request.headers.origin
  if (allowed?.length) return origin !== undefined && allowed.includes(origin)
  // Same origin only (the page we serve), plus clients that send no Origin (not browsers).
  if (origin === undefined) return true
  try {
    return new URL(origin).host === request.headers.host
  } catch {
    return false
  }
}

function staticFile(dir: string | undefined, path: string): string | undefined {
  if (!dir) return undefined
  const relative = normalize(path === '/' ? '/index.html' : path).replace(/^(\.\.[/\\])+/, '')
  const file = join(dir, relative)
  if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) return undefined
  return file
}
