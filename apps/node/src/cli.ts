#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Block, createGenesis, MIN_ROUND_MS, readNetworkParams } from '@chronos/codec'
import { Command, InvalidArgumentError, Option } from 'commander'
import {
  ConfigError,
  DEFAULT_LIMITS,
  mergeConfig,
  type NodeConfig,
  type NodeLimits,
  nodeConfigSchema,
  readConfigFile,
} from './config.js'
import { DataDirError } from './data-dir.js'
import { StartFailedError } from './lifecycle.js'
import { createLogger } from './logger.js'
import { ChronosNode, NotAuthorizedProducerError } from './node.js'
import { createKeyFile, KeyFileError, loadOrCreateKeyFile, NODE_KEY_FILE } from './node-key.js'
import { createProgressView } from './progress-view.js'

/** The package's version, read from its manifest (one level above both src/ and dist/). */
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version

/** A start-up failure the operator can fix (a port in use, a data directory held): no stack. */
class StartError extends Error {}

const collect = (value: string, previous: string[] = []) => [...previous, value]

const integer =
  (name: string, min = 0) =>
  (value: string) => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`)
    return n
  }

type TopKey = Exclude<keyof NodeConfig, 'limits'>

/**
 * One setting of `start`: its flag, the `CHRONOS_*` variable derived from
 * the flag's name, and where its value lands in the config. Precedence:
 * flags > environment > config file > defaults (the schema's).
 */
interface Setting {
  flags: string
  description: string
  target: { key: TopKey } | { limit: keyof NodeLimits }
  parse?: (value: string) => unknown
  /**
   * `list`: repeatable flag, comma-separated in the environment; `boolean`: a
   * switch; `negated`: a `--no-X` switch that sets X false (X=true|false in the environment).
   */
  kind?: 'list' | 'boolean' | 'negated'
  choices?: readonly string[]
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

const SETTINGS: readonly Setting[] = [
  {
    flags: '--data <dir>',
    target: { key: 'data' },
    description: 'data directory (the chain is in <dir>/chain) [required]',
  },
  {
    flags: '--genesis <file>',
    target: { key: 'genesis' },
    description: 'genesis block file (`chronos-node genesis --out FILE`) [required]',
  },
  {
    flags: '--listen <host:port>',
    target: { key: 'listen' },
    description: 'where to accept peers',
  },
  {
    flags: '--advertise <host:port>',
    target: { key: 'advertise' },
    description: 'the address peers should dial (default: the bound --listen address)',
  },
  {
    flags: '--peer <[key@]host:port>',
    target: { key: 'peers' },
    kind: 'list',
    description: 'a peer to stay connected to (repeatable); key@ pins the key it must prove',
  },
  {
    flags: '--produce',
    target: { key: 'produce' },
    kind: 'boolean',
    description: 'pack a candidate block at each round start',
  },
  {
    flags: '--producer-key <file>',
    target: { key: 'producerKey' },
    description: 'key file to seal produced blocks with (default: the node key)',
  },
  {
    flags: '--no-identity',
    target: { key: 'identity' },
    kind: 'negated',
    description: `prove no node key (act as a 1.0 node); default: <data>/${NODE_KEY_FILE}`,
  },
  {
    flags: '--require-identity',
    target: { key: 'requireIdentity' },
    kind: 'boolean',
    description: 'refuse peers that prove no node key',
  },
  {
    flags: '--tx-rate <n>',
    target: { key: 'txRate' },
    parse: integer('--tx-rate'),
    description: 'synthetic transactions per second when producing',
  },
  {
    flags: '--api <[host:]port>',
    target: { key: 'api' },
    description: 'serve the HTTP API (host defaults to 127.0.0.1; default: no API)',
  },
  {
    flags: '--log-level <level>',
    target: { key: 'logLevel' },
    choices: LOG_LEVELS,
    description: 'log level',
  },
  {
    flags: '--max-peers <n>',
    target: { limit: 'maxOutbound' },
    parse: integer('--max-peers'),
    description: 'peers we dial',
  },
  {
    flags: '--max-inbound <n>',
    target: { limit: 'maxInbound' },
    parse: integer('--max-inbound'),
    description: 'peers that may dial us',
  },
  {
    flags: '--known-set-size <n>',
    target: { limit: 'knownSetSize' },
    parse: integer('--known-set-size', 1),
    description: 'hashes remembered per peer',
  },
  {
    flags: '--max-body-bytes <n>',
    target: { limit: 'maxBodyBytes' },
    parse: integer('--max-body-bytes', 1024),
    description: 'largest frame body',
  },
  {
    flags: '--status-interval-ms <n>',
    target: { limit: 'statusIntervalMs' },
    parse: integer('--status-interval-ms', 50),
    description: 'status beat interval',
  },
  {
    flags: '--sync-window <n>',
    target: { limit: 'syncWindow' },
    parse: integer('--sync-window', 1),
    description: 'PULL_BLOCKs in flight while syncing',
  },
  {
    flags: '--mempool-size <n>',
    target: { limit: 'mempoolSize' },
    parse: integer('--mempool-size', 1),
    description: 'transactions the mempool holds',
  },
  {
    flags: '--target-outbound <n>',
    target: { limit: 'targetOutbound' },
    parse: integer('--target-outbound'),
    description: 'outbound connections kept by dialing addresses learned by peer exchange',
  },
  {
    flags: '--clock-offset-ms <ms>',
    target: { key: 'clockOffsetMs' },
    parse: integer('--clock-offset-ms', Number.MIN_SAFE_INTEGER),
    description: "skew this node's clock by ms (may be negative; for fault tests)",
  },
]

const longName = (flags: string) => flags.split(' ')[0]!
/** `--max-peers` -> `CHRONOS_MAX_PEERS`; `--no-identity` -> `CHRONOS_IDENTITY`. */
const envName = (flags: string) =>
  `CHRONOS_${longName(flags)
    .replace(/^--(no-)?/, '')
    .toUpperCase()
    .replaceAll('-', '_')}`

/** The schema's default for a setting, for --help (undefined when it has none). */
function defaultOf(setting: Setting): unknown {
  if ('limit' in setting.target) return DEFAULT_LIMITS[setting.target.limit]
  const member = nodeConfigSchema.shape[setting.target.key] as {
    _zod: { def: { type: string; defaultValue?: unknown } }
  }
  const value = member._zod.def.type === 'default' ? member._zod.def.defaultValue : undefined
  return Array.isArray(value) && value.length === 0 ? undefined : value
}

function option(setting: Setting): Option {
  const fallback = setting.kind === 'negated' ? undefined : defaultOf(setting)
  const extras = [
    fallback !== undefined && fallback !== false ? `default: ${JSON.stringify(fallback)}` : '',
    `env: ${envName(setting.flags)}${setting.kind === 'list' ? ', comma-separated' : ''}`,
  ].filter(Boolean)
  const made = new Option(setting.flags, `${setting.description} (${extras.join('; ')})`)
  if (setting.parse) made.argParser(setting.parse)
  if (setting.kind === 'list')
    made.argParser((value, previous: string[] = []) => [...previous, value])
  if (setting.choices) made.choices(setting.choices)
  return made
}

/** Puts one setting's value where it belongs in a partial config. */
function place(values: Record<string, unknown>, setting: Setting, value: unknown): void {
  if ('key' in setting.target) values[setting.target.key] = value
  else values.limits = { ...(values.limits as object), [setting.target.limit]: value }
}

/** The `CHRONOS_*` layer: each variable parsed as its flag would be. */
function environmentLayer(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  const issues: string[] = []
  for (const setting of SETTINGS) {
    const name = envName(setting.flags)
    const text = env[name]
    if (text === undefined || text === '') continue
    try {
      if (setting.kind === 'boolean' || setting.kind === 'negated') {
        if (/^(1|true|yes)$/i.test(text)) place(values, setting, true)
        else if (/^(0|false|no)$/i.test(text)) place(values, setting, false)
        else throw new Error(`expected true or false, got "${text}"`)
      } else if (setting.kind === 'list')
        place(values, setting, text.split(/[\s,]+/).filter(Boolean))
      else if (setting.choices && !setting.choices.includes(text))
        throw new Error(`expected one of ${setting.choices.join(', ')}, got "${text}"`)
      else place(values, setting, setting.parse ? setting.parse(text) : text)
    } catch (error) {
      issues.push(`${name}: ${(error as Error).message}`)
    }
  }
  if (issues.length) throw new ConfigError('environment', issues)
  return values
}

/** The flags layer: only flags given on the command line (defaults come from the schema). */
function flagsLayer(flags: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const setting of SETTINGS) {
    const value = flags[new Option(setting.flags).attributeName()]
    // commander defaults a `--no-X` switch to true: only its false was given.
    if (setting.kind === 'negated' && value !== false) continue
    if (value !== undefined) place(values, setting, value)
  }
  return values
}

/** What `start` cannot run without. */
const REQUIRED = [
  { key: 'data', flag: '--data' },
  { key: 'genesis', flag: '--genesis' },
  { key: 'listen', flag: '--listen' },
] as const

/** Where a setting comes from, for "required" messages. */
const whereToSet = (flag: string, key: string) =>
  `give ${flag}, ${envName(flag)} or "${key}" in --config`

const BIND_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL'])

/** The errno code behind an error or its causes (the transport wraps the socket's error). */
function errnoCode(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as never)
    if (typeof e.code === 'string' && e.code.startsWith('E')) return e.code
  return undefined
}

/** Names the flag behind an address that could not be bound; other errors pass unchanged. */
function bindFailure(flag: string, address: string, error: unknown): unknown {
  const code = errnoCode(error)
  if (!code || !BIND_ERRORS.has(code)) return error
  const why =
    code === 'EADDRINUSE'
      ? 'address already in use'
      : code === 'EACCES'
        ? 'permission denied'
        : 'address not available here'
  return new StartError(`${flag} ${address}: ${why} (${code})`)
}

function readGenesis(path: string): Block {
  try {
    const genesis = JSON.parse(readFileSync(path, 'utf8')) as Block
    readNetworkParams(genesis)
    return genesis
  } catch (error) {
    throw new ConfigError(path, [`not a genesis block: ${(error as Error).message}`])
  }
}

const program = new Command('chronos-node')
  .description(
    'A Chronos blockchain node: TCP peers, LevelDB chain, sync, gossip, production, HTTP API',
  )
  .version(VERSION, '-V, --version', 'print the version')
  .showHelpAfterError()

program
  .command('genesis')
  .description('write a genesis block; give the file to every node with --genesis')
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

const start = program
  .command('start')
  .description(
    'run a node. Settings: flags > CHRONOS_* environment > --config file > defaults; relative paths in a config file are relative to the file',
  )
  .addOption(
    new Option('--config <file>', 'JSON config file with the same settings (env: CHRONOS_CONFIG)'),
  )
for (const setting of SETTINGS) start.addOption(option(setting))

start.action(async (flags: Record<string, unknown>) => {
  const configFile =
    (flags.config as string | undefined) ?? (process.env.CHRONOS_CONFIG || undefined)
  const layers = [
    {
      source: configFile ?? 'no config file',
      values: configFile ? readConfigFile(configFile) : {},
    },
    { source: 'environment', values: environmentLayer(process.env) },
    { source: 'flags', values: flagsLayer(flags) },
  ]
  // Named before validation, with every place they can be given.
  const missing = REQUIRED.filter(({ key }) =>
    layers.every((layer) => layer.values[key] === undefined),
  ).map(({ key, flag }) => `${key}: required (${whereToSet(flag, key)})`)
  if (missing.length) throw new ConfigError('config', missing)
  const config = mergeConfig(...layers)
  const genesis = readGenesis(config.genesis!)
  const logger = createLogger(config.logLevel)
  const node = await ChronosNode.open({ config, genesis, logger, processMetrics: true })
  node.on('progress', createProgressView(logger))
  // Signals are handled from here on, so one that arrives while starting still stops cleanly.
  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    await node.stop().catch((error: Error) => logger.error({ err: error.message }, 'stop failed'))
    logger.flush()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  // The node binds its API before any peer connection is made (a port in
  // use stops it before it has joined the network); a failed start has
  // stopped what had started, and names the part that failed.
  try {
    await node.start()
  } catch (error) {
    if (stopping) return // a signal stopped the start; shutdown() exits
    await node.stop()
    if (!(error instanceof StartFailedError)) throw error
    throw error.part === 'api'
      ? bindFailure('--api', config.api!, error.cause)
      : bindFailure('--listen', config.listen, error.cause)
  }
  if (node.apiAddress) logger.info({ api: `http://${node.apiAddress}` }, 'API listening')
})

program.parseAsync().catch((error: Error) => {
  process.stderr.write(`chronos-node: ${error.message}\n`)
  const known = [
    ConfigError,
    StartError,
    DataDirError,
    KeyFileError,
    NotAuthorizedProducerError,
  ].some((type) => error instanceof type)
  if (!known) process.stderr.write(`${error.stack ?? ''}\n`)
  process.exit(error instanceof ConfigError ? 2 : 1)
})
