import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { parseAddress, transactionSchema } from '@chronos/codec'
import { healthStatusCode, nodeHealth, parseSyncingStatus } from './health.js'
import type { ChronosNode } from './node.js'

const MAX_TX_BODY_BYTES = 64 * 1024

function send(response: ServerResponse, status: number, body: unknown, type = 'application/json') {
  const text = type === 'application/json' ? `${JSON.stringify(body)}\n` : String(body)
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        resolve(undefined)
        request.destroy()
        return
      }
      chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

async function route(node: ChronosNode, request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? '/', 'http://api')
  if (request.method === 'GET' && url.pathname === '/status')
    return send(response, 200, node.status())
  if (request.method === 'GET' && url.pathname === '/health') {
    const syncing = parseSyncingStatus(url.searchParams.get('syncing_status'))
    if (!syncing.ok)
      return send(response, 400, { error: 'INVALID_PARAM', message: syncing.message })
    const health = nodeHealth(node)
    return send(response, healthStatusCode(health, syncing.code), health)
  }
  if (request.method === 'GET' && url.pathname === '/ready') {
    const health = nodeHealth(node)
    return send(response, health.state === 'synced' ? 200 : 503, health)
  }
  if (request.method === 'GET' && url.pathname === '/metrics') {
    const registry = node.metrics.registry
    return send(response, 200, await registry.metrics(), registry.contentType)
  }
  if (request.method === 'GET' && url.pathname === '/observations') {
    const after = Number(url.searchParams.get('after') ?? 0)
    return send(response, 200, node.observations.since(Number.isFinite(after) ? after : 0))
  }
  const blockPath = /^\/blocks\/(\d{1,16})$/.exec(url.pathname)
  if (request.method === 'GET' && blockPath) {
    const block = await node.store.getByHeight(Number(blockPath[1]))
    return block
      ? send(response, 200, block)
      : send(response, 404, {
          error: 'NOT_FOUND',
          message: `no confirmed block at height ${blockPath[1]}`,
        })
  }
  if (request.method === 'POST' && url.pathname === '/tx') {
    const body = await readBody(request, MAX_TX_BODY_BYTES)
    if (body === undefined)
      return send(response, 413, { error: 'TOO_LARGE', message: `over ${MAX_TX_BODY_BYTES} bytes` })
    let value: unknown
    try {
      value = JSON.parse(body)
    } catch (error) {
      return send(response, 400, { error: 'INVALID_JSON', message: (error as Error).message })
    }
    const parsed = transactionSchema.safeParse(value)
    if (!parsed.success)
      return send(response, 400, {
        error: 'INVALID_TRANSACTION',
        message: parsed.error.issues[0]?.message,
      })
    const result = node.mempool.add(parsed.data)
    node.metrics.mempool.set(node.mempool.size)
    if ('refused' in result)
      return send(response, result.refused === 'FULL' ? 503 : 409, {
        error: result.refused === 'FULL' ? 'MEMPOOL_FULL' : 'DUPLICATE',
      })
    return send(response, 202, { id: result.id })
  }
  return send(response, 404, { error: 'NOT_FOUND', message: `${request.method} ${url.pathname}` })
}

/** The node's HTTP API: GET /status, GET /health, GET /ready, GET /metrics, GET /blocks/:height, POST /tx. */
export async function startApi(node: ChronosNode, address: string): Promise<Server> {
  const target = parseAddress(address)
  if (!target) throw new Error(`invalid API address ${address}`)
  const server = createServer((request, response) => {
    route(node, request, response).catch((error: Error) => {
      node.logger.error({ err: error.message, url: request.url }, 'API request failed')
      if (!response.headersSent) send(response, 500, { error: 'INTERNAL', message: error.message })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(target.port, target.host, resolve)
  })
  return server
}

/** The bound `host:port` of a started API server. */
export function apiAddress(server: Server): string {
  const bound = server.address()
  if (!bound || typeof bound === 'string') return String(bound)
  return bound.family === 'IPv6'
    ? `[${bound.address}]:${bound.port}`
    : `${bound.address}:${bound.port}`
}
