#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Block, createGenesis, MIN_ROUND_MS, readNetworkParams } from '@chronos/codec'
import { Command, InvalidArgumentError, Option } from 'commander'
import { apiAddress, startApi } from './api.js'
import { ConfigError, readConfigFile, resolveConfig } from './config.js'
import { createLogger } from './logger.js'
import { ChronosNode } from './node.js'
import { createKeyFile, loadOrCreateKeyFile, NODE_KEY_FILE } from './node-key.js'
import { createProgressView } from './progress-view.js'

const integer =
  (name: string, min = 0) =>
  (value: string) => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`)
    return n
  }
const collect = (value: string, previous: string[] = []) => [...previous, value]

const program = new Command('chronos-node')
  .description(
    'A Chronos blockchain node: TCP peers, LevelDB chain, sync, gossip, production, HTTP API',
  )
  .showHelpAfterError()

program
  .command('genesis')
  .description('print a genesis block; save it to a file and give it to every node with --genesis')
  .requiredOption('--network <name>', 'network name')
  .requiredOption(
    '--round-ms <ms>',
    `round length (≥ ${MIN_ROUND_MS})`,
    integer('--round-ms', MIN_ROUND_MS),
  )
  .option('--start <ms>', 'network start time G, Unix ms (default: now)', integer('--start'))
  .option(
    '--producer <key>',
    'an authorized producer key, in turn order (repeatable): makes the network permissioned',
    collect,
  )
  .option('--out <file>', 'write the genesis block to this file instead of standard output')
  .action(
    (options: {
      network: string
      roundMs: number
      start?: number
      producer?: string[]
      out?: string
    }) => {
      const genesis = createGenesis({
        network: options.network,
        roundMs: options.roundMs,
        timestamp: options.start ?? Date.now(),
        ...(options.producer ? { producers: options.producer } : {}),
      })
      readNetworkParams(genesis)
      const text = `${JSON.stringify(genesis)}\n`
      if (options.out) writeFileSync(options.out, text)
      else process.stdout.write(text)
    },
  )

program
  .command('key')
  .description(
    `print the node's public key (creating <data>/${NODE_KEY_FILE} if missing), or create a key file with --out`,
  )
  .option('--data <dir>', 'data directory whose node key to print (created on first use)')
  .option('--out <file>', 'create a new key file here (mode 0600) and print its public key')
  .action((options: { data?: string; out?: string }) => {
    if (!options.data && !options.out)
      throw new ConfigError('key', ['give --data <dir> or --out <file>'])
    const key = options.out
      ? createKeyFile(options.out)
      : loadOrCreateKeyFile(join(options.data!, NODE_KEY_FILE))
    process.stdout.write(`${key.publicKey}\n`)
  })

program
  .command('start')
  .description('run a node')
  .option('--config <file>', 'JSON config file; flags override its values')
  .option('--data <dir>', 'data directory (the chain is stored in <dir>/chain)')
  .option('--genesis <file>', 'genesis block file')
  .option('--listen <host:port>', 'where to accept peers')
  .option('--advertise <host:port>', 'the address peers should dial (default: --listen)')
  .option(
    '--peer <[key@]host:port>',
    'a peer to stay connected to (repeatable); key@ pins the key it must prove',
    collect,
  )
  .option('--produce', 'pack a candidate block at each round start')
  .option('--producer-key <file>', 'key file to seal produced blocks with (default: the node key)')
  .option(
    '--no-identity',
    `prove no node key (act as a 1.0 node); default: <data>/${NODE_KEY_FILE}`,
  )
  .option('--require-identity', 'refuse peers that prove no node key')
  .option('--tx-rate <n>', 'synthetic transactions per second when producing', integer('--tx-rate'))
  .option('--api <[host:]port>', 'serve the HTTP API (host defaults to 127.0.0.1)')
  .addOption(
    new Option('--log-level <level>', 'log level').choices([
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'silent',
    ]),
  )
  .option('--max-peers <n>', 'peers we dial', integer('--max-peers'))
  .option('--max-inbound <n>', 'peers that may dial us', integer('--max-inbound'))
  .option('--known-set-size <n>', 'hashes remembered per peer', integer('--known-set-size', 1))
  .option('--max-body-bytes <n>', 'largest frame body', integer('--max-body-bytes', 1024))
  .option('--status-interval-ms <n>', 'status beat interval', integer('--status-interval-ms', 50))
  .option('--sync-window <n>', 'PULL_BLOCKs in flight while syncing', integer('--sync-window', 1))
  .option('--mempool-size <n>', 'transactions the mempool holds', integer('--mempool-size', 1))
  .action(async (flags: Record<string, unknown>) => {
    const file = flags.config ? readConfigFile(String(flags.config)) : {}
    const limits = Object.fromEntries(
      Object.entries({
        maxOutbound: flags.maxPeers,
        maxInbound: flags.maxInbound,
        knownSetSize: flags.knownSetSize,
        maxBodyBytes: flags.maxBodyBytes,
        statusIntervalMs: flags.statusIntervalMs,
        syncWindow: flags.syncWindow,
        mempoolSize: flags.mempoolSize,
      }).filter(([, v]) => v !== undefined),
    )
    const config = resolveConfig(file, {
      data: flags.data,
      genesis: flags.genesis,
      listen: flags.listen,
      advertise: flags.advertise,
      peers: flags.peer,
      produce: flags.produce,
      producerKey: flags.producerKey,
      identity: flags.identity === false ? false : undefined,
      requireIdentity: flags.requireIdentity,
      txRate: flags.txRate,
      api: flags.api,
      logLevel: flags.logLevel,
      limits,
    })
    const logger = createLogger(config.logLevel)
    let genesis: Block
    try {
      genesis = JSON.parse(readFileSync(config.genesis, 'utf8'))
      readNetworkParams(genesis)
    } catch (error) {
      throw new ConfigError(config.genesis, [`not a genesis block: ${(error as Error).message}`])
    }
    const node = await ChronosNode.open({ config, genesis, logger })
    node.on('progress', createProgressView(logger))
    await node.start()
    const api = config.api ? await startApi(node, config.api) : undefined
    if (api) logger.info({ api: `http://${apiAddress(api)}` }, 'API listening')
    let stopping = false
    const shutdown = async (signal: string) => {
      if (stopping) return
      stopping = true
      logger.info({ signal }, 'shutting down')
      api?.close()
      api?.closeAllConnections()
      await node.stop()
      logger.flush()
      process.exit(0)
    }
    process.on('SIGINT', () => void shutdown('SIGINT'))
    process.on('SIGTERM', () => void shutdown('SIGTERM'))
  })

program.parseAsync().catch((error: Error) => {
  process.stderr.write(`chronos-node: ${error.message}\n`)
  process.exit(error instanceof ConfigError ? 2 : 1)
})
