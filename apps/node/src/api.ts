import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import {
  type Block,
  parseAddress,
  type Service,
  type Transaction,
  transactionId,
  transactionSchema,
} from '@chronos/codec'
import { healthStatusCode, nodeHealth, parseSyncingStatus } from './health.js'
import type { MempoolRefusal } from './mempool.js'
import type { ChronosNode } from './node.js'

/**
 * How long the rest of a refused body is read and dropped before the socket
 * is closed. Closing a socket with unread bytes makes the kernel send a
 * reset, and a reset can destroy the answer before the client has read it
 * (curl then reports "Empty reply from server").
 */
const DRAIN_MS = 5_000

/** How the API answers each mempool refusal. */
const REFUSALS: Record<MempoolRefusal, [status: number, error: string]> = {
  FULL: [503, 'MEMPOOL_FULL'],
  DUPLICATE: [409, 'DUPLICATE'],
  TOO_LARGE: [413, 'TRANSACTION_TOO_LARGE'],
}

function send(response: ServerResponse, status: number, body: unknown, type = 'application/json') {
  const text = type === 'application/json' ? `${JSON.stringify(body)}\n` : String(body)
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

/** Reads a body of at most `limit` bytes; undefined once it is over (the rest is left unread). */
function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        request.off('data', onData)
        request.pause()
        resolve(undefined)
        return
      }
      chunks.push(chunk)
    }
    request.on('data', onData)
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

/**
 * Drops the rest of a request body so the answer reaches the client: read
 * to its end, the connection stays usable; still sending after `DRAIN_MS`,
 * it is closed.
 */
function drain(request: IncomingMessage): void {
  const socket = request.socket
  const give = setTimeout(() => socket.destroy(), DRAIN_MS)
  give.unref()
  request.once('end', () => clearTimeout(give))
  socket.once('close', () => clearTimeout(give))
  request.on('data', () => {})
  request.resume()
}

/** `/blocks/latest`, `/blocks/HEIGHT` or `/blocks/HASH` (64 hex). */
async function findBlock(node: ChronosNode, id: string): Promise<Block | undefined> {
  if (id === 'latest') return node.store.head()
  if (/^\d{1,16}$/.test(id)) return node.store.getByHeight(Number(id))
  if (/^[0-9a-f]{64}$/.test(id)) return node.store.getByHash(id)
  return undefined
}

/** Validates a posted transaction: any JSON object the protocol can give an id (section 5). */
function parseTransaction(
  body: string,
):
  | { ok: true; transaction: Transaction; id: string }
  | { ok: false; error: string; message: string } {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch (error) {
    return { ok: false, error: 'INVALID_JSON', message: (error as Error).message }
  }
  const parsed = transactionSchema.safeParse(value)
  if (!parsed.success)
    return {
      ok: false,
      error: 'INVALID_TRANSACTION',
      message: parsed.error.issues[0]?.message ?? 'invalid',
    }
  try {
    return { ok: true, transaction: parsed.data, id: transactionId(parsed.data) }
  } catch (error) {
    // A lone surrogate or a number JSON cannot round-trip (1e400) has no JCS form, hence no id.
    return { ok: false, error: 'NOT_CANONICALIZABLE', message: (error as Error).message }
  }
}

async function postTransaction(
  node: ChronosNode,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const limit = node.config.limits.maxTxBytes
  const tooLarge = { error: 'TOO_LARGE', message: `body over ${limit} bytes` }
  const declared = Number(request.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    drain(request)
    return send(response, 413, tooLarge)
  }
  const body = await readBody(request, limit)
  if (body === undefined) {
    drain(request)
    return send(response, 413, tooLarge)
  }
  const parsed = parseTransaction(body)
  if (!parsed.ok) return send(response, 400, { error: parsed.error, message: parsed.message })
  if (!node.isProducing)
    return send(response, 409, {
      error: 'NOT_PRODUCING',
      message: 'this node does not produce blocks: post to a producing node',
    })
  const result = node.mempool.add(parsed.transaction)
  node.metrics.mempool.set(node.mempool.size)
  if ('refused' in result) {
    const [status, error] = REFUSALS[result.refused]
    return send(response, status, { error })
  }
  return send(response, 202, { id: result.id })
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
  const blockPath = /^\/blocks\/([^/]+)$/.exec(url.pathname)
  if (request.method === 'GET' && blockPath) {
    const id = blockPath[1]!
    const block = await findBlock(node, id)
    return block
      ? send(response, 200, block)
      : send(response, 404, {
          error: 'NOT_FOUND',
          message: `no confirmed block ${id} (expected latest, a height or a 64-hex hash)`,
        })
  }
  if (request.method === 'POST' && url.pathname === '/tx')
    return postTransaction(node, request, response)
  return send(response, 404, { error: 'NOT_FOUND', message: `${request.method} ${url.pathname}` })
}

/**
 * The node's HTTP API: GET /status, GET /health, GET /ready, GET /metrics,
 * GET /blocks/latest, GET /blocks/:height, GET /blocks/:hash, GET /observations, POST /tx.
 */
export async function startApi(node: ChronosNode, address: string): Promise<Server> {
  const target = parseAddress(address)
  if (!target) throw new Error(`invalid API address ${address}`)
  const server = createServer((request, response) => {
    route(node, request, response).catch((error: Error) => {
      node.logger.error({ err: error.message, url: request.url }, 'API request failed')
      if (!response.headersSent) send(response, 500, { error: 'INTERNAL', message: error.message })
    })
  })
  // `Expect: 100-continue` (curl, for large bodies): an over-cap body is refused before it is sent.
  server.on('checkContinue', (request, response) => {
    const declared = Number(request.headers['content-length'])
    if (Number.isFinite(declared) && declared > node.config.limits.maxTxBytes) {
      response.shouldKeepAlive = false
      return send(response, 413, {
        error: 'TOO_LARGE',
        message: `body over ${node.config.limits.maxTxBytes} bytes`,
      })
    }
    response.writeContinue()
    server.emit('request', request, response)
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

/**
 * The HTTP API as one of the parts the node composes (`config.api`): it
 * binds on start (before any peer connection, so a port in use stops the
 * node before it joins the network) and closes every connection on stop.
 */
export class NodeApi implements Service {
  private server: Server | undefined

  constructor(
    private readonly node: ChronosNode,
    private readonly listen: string,
  ) {}

  /** The bound `host:port`, once started. */
  get address(): string | undefined {
    return this.server && apiAddress(this.server)
  }

  async start(): Promise<void> {
    this.server ??= await startApi(this.node, this.listen)
  }

  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = undefined
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeAllConnections()
    await closed
  }
}
