import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { type Logger, silentLogger } from '@chronos/codec'
import { WebSocketServer } from 'ws'
import { type AccessPolicy, checkAccess } from './access.js'
import { ClientHub, type ClientLimits, type ClientStats, DEFAULT_CLIENT_LIMITS } from './clients.js'
import { BRIDGE_PROTOCOL_VERSION, clientMessageSchema, type ServerMessage } from './protocol.js'
import { readStatic, staticFile } from './static.js'
import type { NetworkView } from './view.js'

export interface BridgeServerOptions extends Partial<ClientLimits> {
  view: NetworkView
  /** Default 127.0.0.1:8080; port 0 picks one. */
  listen?: string
  /** The built page (dist-web). */
  staticDir?: string
  /** Browsers at once; more are refused with 503. Default 500. */
  maxClients?: number
  /** Origins allowed to open the WebSocket. Default: same origin (and non-browser clients). */
  allowedOrigins?: readonly string[]
  /** Host names the bridge answers to besides IP literals and localhost (DNS rebinding guard, see access.ts). */
  allowedHosts?: readonly string[]
  /** How often the view's changes go out. Default 250 ms. */
  deltaIntervalMs?: number
  logger?: Logger
}

export interface BridgeServer {
  /** `host:port` it listens on. */
  address: string
  clientCount(): number
  /** Browsers, their buffers, what was sent and who was dropped why. */
  stats(): ClientStats
  /** Flow-control events, for tests and metrics. */
  readonly clients: ClientHub
  close(): Promise<void>
}

/**
 * Serves the page and the browser WebSocket (`/ws`) on one port. One JSON
 * text per delta is built once and sent to every subscribed browser; the
 * snapshot text is built at most once per update; flow control per browser
 * and in total lives in `ClientHub`.
 */
export async function startBridgeServer(options: BridgeServerOptions): Promise<BridgeServer> {
  const logger = options.logger ?? silentLogger
  const maxClients = options.maxClients ?? 500
  const limits: ClientLimits = {
    ...DEFAULT_CLIENT_LIMITS,
    ...Object.fromEntries(
      Object.keys(DEFAULT_CLIENT_LIMITS).flatMap((k) => {
        const v = options[k as keyof ClientLimits]
        return v === undefined ? [] : [[k, v]]
      }),
    ),
  }
  const policy: AccessPolicy = {
    allowedHosts: options.allowedHosts ?? [],
    allowedOrigins: options.allowedOrigins ?? [],
  }
  const view = options.view
  let seq = 0
  let cachedSnapshot: string | undefined

  const envelope = (message: Omit<ServerMessage, 'v'>) =>
    JSON.stringify({ v: BRIDGE_PROTOCOL_VERSION, ...message })
  const hub = new ClientHub(
    limits,
    () => {
      cachedSnapshot ??= envelope({ type: 'snapshot', seq, data: view.snapshot() })
      return cachedSnapshot
    },
    logger,
  )
  const onDelta = (delta: unknown) => {
    seq++
    cachedSnapshot = undefined
    hub.broadcast(envelope({ type: 'delta', seq, data: delta } as Omit<ServerMessage, 'v'>))
  }
  view.on('delta', onDelta)
  const flusher = setInterval(() => {
    view.flush()
    hub.tick()
  }, options.deltaIntervalMs ?? 250)

  const server: Server = createServer((request, response) => {
    const access = checkAccess(request, { ...policy, allowedOrigins: [] })
    if (!access.ok && access.reason === 'HOST_NOT_ALLOWED') {
      logger.warn({ host: request.headers.host, reason: access.reason }, 'request refused')
      response.writeHead(421, { 'content-type': 'text/plain' }).end('unknown host name\n')
      return
    }
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
    response.writeHead(200, { 'content-type': file.type })
    response.end(readStatic(file))
  })
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 })
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, why: string, reason: string) => {
      logger.warn(
        { origin: request.headers.origin, host: request.headers.host, reason },
        'browser refused',
      )
      socket.end(`HTTP/1.1 ${status} ${why}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
    }
    if (new URL(request.url ?? '/', 'http://bridge').pathname !== '/ws')
      return refuse(404, 'Not Found', 'NOT_FOUND')
    const access = checkAccess(request, policy)
    if (!access.ok) return refuse(403, 'Forbidden', access.reason)
    if (hub.size >= maxClients) return refuse(503, 'Service Unavailable', 'MAX_CLIENTS')
    wss.handleUpgrade(request, socket, head, (ws) => {
      const client = hub.add(ws)
      ws.on('message', (data, isBinary) => {
        if (!hub.admit(client)) return
        let parsed: unknown
        try {
          parsed = isBinary ? undefined : JSON.parse(data.toString())
        } catch {}
        const message = clientMessageSchema.safeParse(parsed)
        if (!message.success) {
          ws.close(1008, 'only subscribe and ping are accepted')
          return
        }
        if (message.data.type === 'subscribe') hub.subscribe(client)
        else hub.reply(client, envelope({ type: 'pong', seq, data: { t: message.data.data.t } }))
      })
    })
  })

  const [host, port] = splitHostPort(options.listen ?? '127.0.0.1:8080')
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const bound = server.address()
  const address = typeof bound === 'object' && bound ? `${host}:${bound.port}` : String(bound)
  return {
    address,
    clientCount: () => hub.size,
    stats: () => hub.stats(),
    clients: hub,
    async close() {
      clearInterval(flusher)
      view.off('delta', onDelta)
      hub.closeAll()
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
