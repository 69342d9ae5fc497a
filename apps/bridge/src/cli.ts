#!/usr/bin/env node
import { fileURLToPath } from 'node:url'
import { Command, InvalidArgumentError } from 'commander'
import { pino } from 'pino'
import { HistoryStore } from './history.js'
import { type BridgeTarget, Observer } from './observer.js'
import { startBridgeServer } from './server.js'
import { NetworkView } from './view.js'

const HOST_PORT = /^(\[[^\]]+\]|[^\s:[\]]+):\d{1,5}$/

const NAME = /^[\w.-]{1,32}$/

/** `[NAME=]HOST:PORT[@API_HOST:API_PORT]` */
function target(value: string, previous: BridgeTarget[] = []): BridgeTarget[] {
  const eq = value.indexOf('=')
  const name = eq < 0 ? undefined : value.slice(0, eq)
  const [p2p, api] = value.slice(eq + 1).split('@')
  if (
    (name !== undefined && !NAME.test(name)) ||
    !p2p ||
    !HOST_PORT.test(p2p) ||
    (api !== undefined && !HOST_PORT.test(api))
  )
    throw new InvalidArgumentError(
      `expected [NAME=]HOST:PORT[@API_HOST:API_PORT] (NAME: 1-32 of letters, digits, _ . -), got "${value}"`,
    )
  return [...previous, { p2p, api, name }]
}

const integer = (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer')
  return n
}

const program = new Command('chronos-bridge')
  .description(
    'Watch a Chronos network and serve a live page: node table, topology, block propagation',
  )
  .requiredOption(
    '--node <[name=]host:port[@api]>',
    'a node to watch: a name to show, its P2P address, and its API for richer data (repeatable)',
    target,
  )
  .option('--listen <host:port>', 'where the page and its WebSocket are served', '127.0.0.1:8080')
  .option('--p2p-listen <host:port>', 'where nodes dial the bridge back', '127.0.0.1:0')
  .option('--max-clients <n>', 'browsers at once', integer, 500)
  .option(
    '--allow-origin <origin>',
    'an origin allowed to open the WebSocket (repeatable; default same origin)',
    (v, p: string[] = []) => [...p, v],
  )
  .option(
    '--allow-host <name>',
    'a host name the page is served under besides IP addresses and localhost (repeatable; guards against DNS rebinding)',
    (v, p: string[] = []) => [...p, v],
  )
  .option(
    '--data <dir>',
    "the bridge's own LevelDB: recent blocks and events survive a restart (default: kept in memory only)",
  )
  .option('--log-level <level>', 'log level', 'info')
  .action(async (options) => {
    const logger = pino({ level: options.logLevel, base: undefined })
    const view = new NetworkView()
    const history = options.data ? await HistoryStore.open(options.data, { logger }) : undefined
    await history?.attach(view)
    const observer = new Observer({
      view,
      targets: options.node,
      listen: options.p2pListen,
      logger,
    })
    await observer.start()
    const server = await startBridgeServer({
      view,
      listen: options.listen,
      staticDir: fileURLToPath(new URL('../dist-web', import.meta.url)),
      maxClients: options.maxClients,
      allowedOrigins: options.allowOrigin,
      allowedHosts: options.allowHost,
      logger,
    })
    logger.info(
      { page: `http://${server.address}/`, nodes: options.node.length },
      'bridge listening',
    )
    const stop = async () => {
      await server.close()
      await observer.stop()
      await history?.close()
      process.exit(0)
    }
    process.on('SIGINT', () => void stop())
    process.on('SIGTERM', () => void stop())
  })

program.parseAsync().catch((error: Error) => {
  process.stderr.write(`chronos-bridge: ${error.message}\n`)
  process.exit(1)
})
