// The image's entrypoint. `start` (the default) turns the container's
// environment into chronos-node flags and makes sure the node has its
// genesis, then runs the CLI in this very process: node stays PID 1's
// program, so SIGTERM from `docker stop` or the kubelet reaches the node's
// own shutdown (no shell or wrapper in between to swallow it). The node key,
// <data>/node-key.json, the node creates on first start and keeps in the
// volume (mount one there to bring your own). `bridge ...` runs
// chronos-bridge; anything else (`genesis`, `key`, `--help`) goes to
// chronos-node as given.
//
// Environment (flags given explicitly win):
//   CHRONOS_DATA        data directory (default /data)
//   CHRONOS_GENESIS     genesis file; else /etc/chronos/genesis.json, else <data>/genesis.json,
//                       else one is created there from CHRONOS_NETWORK, CHRONOS_ROUND_MS,
//                       CHRONOS_GENESIS_TIME (Unix ms, the same for every node) and
//                       CHRONOS_PRODUCERS (public keys, comma-separated)
//   CHRONOS_LISTEN      P2P listen address (default 0.0.0.0:7000)
//   CHRONOS_ADVERTISE   the address peers dial back (e.g. the pod's DNS name)
//   CHRONOS_API         API address (default 0.0.0.0:7100); the health check uses it
//   CHRONOS_PEERS       peers to stay connected to, comma- or space-separated
//   CHRONOS_PRODUCE     1 to produce; CHRONOS_TX_RATE synthetic transactions per second
//   CHRONOS_PRODUCER_KEY_DIR  a directory of producer keys named <CHRONOS_NAME>.json; a node
//                       whose file is there produces and signs with it (one StatefulSet,
//                       some pods producers)
//   CHRONOS_NAME        this node's name (default: the hostname, i.e. the pod name)
//   CHRONOS_LOG_LEVEL   log level
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const NODE_CLI = fileURLToPath(new URL('./node/dist/cli.js', import.meta.url))
const BRIDGE_CLI = fileURLToPath(new URL('./bridge/dist/cli.js', import.meta.url))
/** Where the health check reads which URL to probe (the API may be moved by flags). */
const HEALTH_URL_FILE = '/tmp/chronos-health-url'

const env = process.env
const args = process.argv.slice(2)
if (args.length === 0) args.push('start')

function fail(message) {
  process.stderr.write(`chronos entrypoint: ${message}\n`)
  process.exit(2)
}

/** The value of `--flag v` or `--flag=v` in args, if given. */
function flagValue(list, flag) {
  for (let i = 0; i < list.length; i++) {
    if (list[i] === flag) return list[i + 1]
    if (list[i].startsWith(`${flag}=`)) return list[i].slice(flag.length + 1)
  }
  return undefined
}

/** Runs a chronos-node subcommand to completion; returns its stdout, or fails with its stderr. */
function nodeCli(cliArgs) {
  const result = spawnSync(process.execPath, [NODE_CLI, ...cliArgs], { encoding: 'utf8' })
  if (result.status !== 0)
    fail(
      `chronos-node ${cliArgs[0]} failed: ${(result.stderr || result.error?.message || '').trim()}`,
    )
  return result.stdout
}

/** Address to probe from inside the container: a wildcard host means loopback. */
function probeUrl(address, path) {
  const local = address
    .replace(/^0\.0\.0\.0:/, '127.0.0.1:')
    .replace(/^\[::\]:/, '[::1]:')
    .replace(/^(\d+)$/, '127.0.0.1:$1')
  return `http://${local}${path}`
}

function resolveGenesis(data) {
  const candidates = [env.CHRONOS_GENESIS, '/etc/chronos/genesis.json', join(data, 'genesis.json')]
  const found = candidates.find((path) => path && existsSync(path))
  if (found) return found
  if (!env.CHRONOS_NETWORK)
    fail(
      'no genesis: mount one at /etc/chronos/genesis.json (or set CHRONOS_GENESIS), or set ' +
        'CHRONOS_NETWORK, CHRONOS_ROUND_MS and CHRONOS_GENESIS_TIME to create the same one on every node',
    )
  if (!env.CHRONOS_ROUND_MS || !env.CHRONOS_GENESIS_TIME)
    fail(
      'CHRONOS_NETWORK needs CHRONOS_ROUND_MS and CHRONOS_GENESIS_TIME (Unix ms, equal on every node)',
    )
  const producers = (env.CHRONOS_PRODUCERS ?? '').split(/[\s,]+/).filter(Boolean)
  const path = join(data, 'genesis.json')
  writeFileSync(
    path,
    nodeCli([
      'genesis',
      '--network',
      env.CHRONOS_NETWORK,
      '--round-ms',
      env.CHRONOS_ROUND_MS,
      '--start',
      env.CHRONOS_GENESIS_TIME,
      ...producers.flatMap((key) => ['--producer', key]),
    ]),
  )
  return path
}

/** chronos-node start's flags: the given ones, then what the environment adds. */
function startArgs(given) {
  const out = [...given]
  const add = (flag, value) => {
    if (value !== undefined && value !== '' && flagValue(out, flag) === undefined)
      out.push(flag, value)
  }
  const data = flagValue(out, '--data') ?? env.CHRONOS_DATA ?? '/data'
  add('--data', data)
  if (flagValue(out, '--config') === undefined) add('--genesis', resolveGenesis(data))
  add('--listen', env.CHRONOS_LISTEN)
  add('--advertise', env.CHRONOS_ADVERTISE)
  add('--api', env.CHRONOS_API)
  add('--log-level', env.CHRONOS_LOG_LEVEL)
  add('--tx-rate', env.CHRONOS_TX_RATE)
  for (const peer of (env.CHRONOS_PEERS ?? '').split(/[\s,]+/).filter(Boolean))
    out.push('--peer', peer)
  const name = env.CHRONOS_NAME || hostname()
  const producerKey =
    env.CHRONOS_PRODUCER_KEY_DIR && join(env.CHRONOS_PRODUCER_KEY_DIR, `${name}.json`)
  if (producerKey && existsSync(producerKey)) {
    add('--producer-key', producerKey)
    if (!out.includes('--produce')) out.push('--produce')
  } else if (/^(1|true|yes)$/i.test(env.CHRONOS_PRODUCE ?? '') && !out.includes('--produce')) {
    out.push('--produce')
  }
  const api = flagValue(out, '--api')
  if (api) writeFileSync(HEALTH_URL_FILE, probeUrl(api, '/health'))
  return out
}

let cli = NODE_CLI
let cliArgs = args
if (args[0] === 'start') {
  cliArgs = ['start', ...startArgs(args.slice(1))]
} else if (args[0] === 'bridge') {
  cli = BRIDGE_CLI
  cliArgs = args.slice(1)
  const listen = flagValue(cliArgs, '--listen')
  if (listen) writeFileSync(HEALTH_URL_FILE, probeUrl(listen, '/'))
}
process.argv = [process.argv[0], cli, ...cliArgs]
await import(cli)
