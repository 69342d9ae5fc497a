// `pnpm demo`: a local permissioned Chronos network of 5 nodes on loopback,
// each with its own node key and data directory under .demo/, started fresh
// each time; 3 of them are the genesis' authorized producers (packing
// synthetic transactions, each first in its own turn). Prints addresses and API URLs, then a
// line of heights every few seconds. Ctrl-C stops every node cleanly.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, openSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'

const NODES = 5
const PRODUCERS = 3
const ROUND_MS = 1000
const root = new URL('..', import.meta.url).pathname
const dir = join(root, '.demo')
// The built binary, run with plain node as an operator would (`pnpm build` first: scripts/run.sh does).
const nodeBinary = join(root, 'apps/node/dist/cli.js')
if (!existsSync(nodeBinary)) {
  console.error(`${nodeBinary} is missing: run \`pnpm build\` first (scripts/run.sh demo does)`)
  process.exit(1)
}
const cli = [nodeBinary]

/** A port the OS says is free right now. */
const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

function runCli(args, logFile) {
  const out = logFile ? openSync(logFile, 'a') : 'pipe'
  return spawn(process.execPath, [...cli, ...args], { cwd: root, stdio: ['ignore', out, out] })
}

/** Runs a CLI command to completion and resolves with what it printed. */
const output = (args) =>
  new Promise((resolve, reject) => {
    const child = runCli(args)
    let out = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.on('exit', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`chronos-node ${args[0]} failed`)),
    )
  })

rmSync(dir, { recursive: true, force: true })
mkdirSync(dir, { recursive: true })
// Every node gets its key in its data directory; the producers' keys go into the genesis, in turn order.
const producerKeys = []
for (let i = 0; i < PRODUCERS; i++)
  producerKeys.push(await output(['key', '--data', join(dir, `node-${i + 1}`)]))
const genesisFile = join(dir, 'genesis.json')
await output([
  'genesis',
  '--network',
  'demo',
  '--round-ms',
  String(ROUND_MS),
  ...producerKeys.flatMap((key) => ['--producer', key]),
  '--out',
  genesisFile,
])

const nodes = []
for (let i = 0; i < NODES; i++) {
  nodes.push({
    name: `node-${i + 1}`,
    p2p: `127.0.0.1:${await freePort()}`,
    api: `127.0.0.1:${await freePort()}`,
  })
}
for (const [i, node] of nodes.entries()) {
  // A ring with chords: each node dials the two before it; the first dials the last.
  const peers = [nodes[(i + NODES - 1) % NODES], nodes[(i + NODES - 2) % NODES]].map((n) => n.p2p)
  const producing = i < PRODUCERS
  const args = [
    'start',
    '--data',
    join(dir, node.name),
    '--genesis',
    genesisFile,
    '--listen',
    node.p2p,
    '--api',
    node.api,
  ]
  for (const peer of peers) args.push('--peer', peer)
  if (producing) args.push('--produce', '--tx-rate', '20')
  node.log = join(dir, `${node.name}.log`)
  node.child = runCli(args, node.log)
  node.producing = producing
}

// The bridge watches every node (P2P, plus its API) and serves the page.
const bridgePort = await freePort()
const bridgeArgs = [
  '--import',
  'tsx',
  '--conditions=@chronos/source',
  join(root, 'apps/bridge/src/cli.ts'),
]
bridgeArgs.push('--listen', `127.0.0.1:${bridgePort}`)
for (const node of nodes) bridgeArgs.push('--node', `${node.name}=${node.p2p}@${node.api}`)
// The page's history (recent blocks, events) survives a bridge restart.
bridgeArgs.push('--data', join(dir, 'bridge'))
const bridgeLog = openSync(join(dir, 'bridge.log'), 'a')
const bridge = spawn(process.execPath, bridgeArgs, {
  cwd: root,
  stdio: ['ignore', bridgeLog, bridgeLog],
})

console.log(
  `Chronos demo network: ${NODES} nodes with identities, permissioned with ${PRODUCERS} producers, ${ROUND_MS} ms rounds (data in .demo/)\n`,
)
for (const node of nodes)
  console.log(
    `  ${node.name}  p2p ${node.p2p}  api http://${node.api}/status  ${node.producing ? `producer ${producerKeys[nodes.indexOf(node)].slice(0, 8)}` : ''}  log .demo/${node.name}.log`,
  )
console.log(`\n  Watch it live: http://127.0.0.1:${bridgePort}/   (bridge log: .demo/bridge.log)`)
console.log(
  '\nMetrics: http://<api>/metrics   Blocks: http://<api>/blocks/<height>   Ctrl-C stops the network.\n',
)

const poll = setInterval(async () => {
  const parts = await Promise.all(
    nodes.map(async (node) => {
      try {
        const status = await (await fetch(`http://${node.api}/status`)).json()
        // The bridge is an observer, not a peer: counted apart, as the page does.
        const peers = status.peers.filter((peer) => !peer.observer).length
        return `${node.name} h=${status.height} ${status.head.slice(0, 8)} peers=${peers}`
      } catch {
        return `${node.name} starting`
      }
    }),
  )
  console.log(parts.join(' | '))
}, 3000)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  clearInterval(poll)
  console.log('\nstopping...')
  await Promise.all(
    [...nodes, { child: bridge }].map(
      (node) =>
        new Promise((resolve) => {
          if (node.child.exitCode !== null) return resolve()
          node.child.once('exit', resolve)
          node.child.kill('SIGTERM')
        }),
    ),
  )
  console.log('all nodes stopped')
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
for (const node of nodes)
  node.child.on('exit', (code) => {
    if (!stopping)
      console.error(`${node.name} exited with code ${code}; see .demo/${node.name}.log`)
  })
