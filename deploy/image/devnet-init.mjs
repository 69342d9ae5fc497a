// One-shot setup of a permissioned devnet (deploy/compose.yaml's `init`
// service): gives every node directory under DEVNET_DIR/nodes its identity
// key (chronos-node key --data DIR, kept if it exists), then writes the
// network's genesis, listing the public keys of the DEVNET_PRODUCERS nodes,
// to DEVNET_DIR/genesis/genesis.json unless it is there already: rerunning
// it changes nothing, so restarts keep the same network.
//
//   DEVNET_DIR        default /devnet
//   DEVNET_NODES      node names, comma-separated (their directories under nodes/)
//   DEVNET_PRODUCERS  the producers among them, comma-separated
//   DEVNET_NETWORK    network name (default devnet); DEVNET_ROUND_MS (default 1000)
//   DEVNET_UID        owner of what it writes (default 1000, the image's user)
import { spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const NODE_CLI = fileURLToPath(new URL('./node/dist/cli.js', import.meta.url))
const env = process.env
const dir = env.DEVNET_DIR ?? '/devnet'
const list = (value) => (value ?? '').split(/[\s,]+/).filter(Boolean)
const nodes = list(env.DEVNET_NODES)
const producers = list(env.DEVNET_PRODUCERS)
const uid = Number(env.DEVNET_UID ?? 1000)

function fail(message) {
  process.stderr.write(`devnet init: ${message}\n`)
  process.exit(2)
}

function cli(args) {
  const result = spawnSync(process.execPath, [NODE_CLI, ...args], { encoding: 'utf8' })
  if (result.status !== 0) fail(`chronos-node ${args.join(' ')}: ${(result.stderr ?? '').trim()}`)
  return result.stdout.trim()
}

/** Hands a path (and what is in it) to the node's user, as the volumes start out root's. */
function own(path) {
  chownSync(path, uid, uid)
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) own(join(path, entry))
}

if (nodes.length === 0) fail('DEVNET_NODES is empty')
for (const producer of producers)
  if (!nodes.includes(producer)) fail(`producer ${producer} is not in DEVNET_NODES`)
const keys = new Map()
for (const node of nodes) {
  const data = join(dir, 'nodes', node)
  mkdirSync(data, { recursive: true })
  keys.set(node, cli(['key', '--data', data]))
  own(data)
  console.log(`${node} ${keys.get(node)}${producers.includes(node) ? ' (producer)' : ''}`)
}
const genesisDir = join(dir, 'genesis')
const genesis = join(genesisDir, 'genesis.json')
mkdirSync(genesisDir, { recursive: true })
if (existsSync(genesis)) {
  console.log(`${genesis} exists: kept`)
} else {
  const args = ['genesis', '--network', env.DEVNET_NETWORK ?? 'devnet']
  args.push('--round-ms', env.DEVNET_ROUND_MS ?? '1000')
  for (const producer of producers) args.push('--producer', keys.get(producer))
  writeFileSync(genesis, `${cli(args)}\n`)
  console.log(`${genesis} written: ${producers.length} producers`)
}
own(genesisDir)
