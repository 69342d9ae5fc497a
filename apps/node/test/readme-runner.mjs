// Runs the README's "one node by hand" commands as a user would, inside a
// network namespace of its own (`unshare -n`), so the README's fixed ports
// cannot meet anyone else's. Started by readme.test.ts; prints one JSON
// report on stdout for the test to check.
//
//   node readme-runner.mjs WORKDIR COMMANDS_JSON
//
// Each command runs with `sh -c` in WORKDIR. A `start` (but not `start
// --help`) is a node: it runs in the background as the process the user
// started (`exec`, as an interactive shell runs a foreground job), until the
// end, when it gets SIGTERM. Before the first command after the nodes, the
// runner waits until every node's API shows the same block at a common
// height (so `curl .../status` shows a network, not a node starting up).
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'

const [workdir, commandsJson] = process.argv.slice(2)
const commands = JSON.parse(commandsJson)
const CONVERGED_HEIGHT = 3
const deadline = (ms) => Date.now() + ms

execFileSync('ip', ['link', 'set', 'lo', 'up'])

const report = { steps: [], nodes: [], converged: undefined }
const nodes = []
const isNode = (line) => /\bchronos-node start\b/.test(line) && !/--help\b/.test(line)
const flag = (line, name) => new RegExp(`--${name} (\\S+)`).exec(line)?.[1]

async function getJson(url) {
  const response = await fetch(url)
  if (!response.ok) throw new Error(`${url}: ${response.status}`)
  return response.json()
}

/** Polls each node's API until all hold one block at CONVERGED_HEIGHT (or says what was seen). */
async function waitForConvergence() {
  const until = deadline(90_000)
  let seen = []
  while (Date.now() < until) {
    seen = await Promise.all(
      nodes.map(async (node) => {
        try {
          const status = await getJson(`http://127.0.0.1:${node.api}/status`)
          if (status.height < CONVERGED_HEIGHT) return { api: node.api, height: status.height }
          const block = await getJson(`http://127.0.0.1:${node.api}/blocks/${CONVERGED_HEIGHT}`)
          return { api: node.api, height: status.height, hash: block.block_header.hash }
        } catch (error) {
          return { api: node.api, error: error.message }
        }
      }),
    )
    const hashes = new Set(seen.map((s) => s.hash))
    if (!hashes.has(undefined) && hashes.size === 1) return { ok: true, seen }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return { ok: false, seen }
}

/** Whether a port can be bound again here, i.e. no process (orphan or not) holds it. */
const portFree = (port) =>
  new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })

for (const line of commands) {
  if (isNode(line)) {
    const child = spawn('sh', ['-c', `exec ${line}`], {
      cwd: workdir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const node = {
      line,
      child,
      stdout: '',
      stderr: '',
      api: Number(flag(line, 'api')),
      listen: Number(flag(line, 'listen')?.split(':').at(-1)),
      data: flag(line, 'data'),
    }
    child.stdout.on('data', (chunk) => (node.stdout += chunk))
    child.stderr.on('data', (chunk) => (node.stderr += chunk))
    node.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    )
    nodes.push(node)
    continue
  }
  if (nodes.length && report.converged === undefined) report.converged = await waitForConvergence()
  const started = Date.now()
  const result = spawnSync('sh', ['-c', line], {
    cwd: workdir,
    encoding: 'utf8',
    timeout: 600_000,
  })
  report.steps.push({
    line,
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr.slice(-4000),
    ms: Date.now() - started,
  })
}

// SIGTERM to what the user started (pnpm), as `kill PID` would send.
for (const node of nodes) {
  const running = node.child.exitCode === null && node.child.signalCode === null
  if (running) node.child.kill('SIGTERM')
  const exit = await Promise.race([
    node.exited,
    new Promise((resolve) => setTimeout(() => resolve({ timeout: true }), 20_000)),
  ])
  report.nodes.push({
    line: node.line,
    runningUntilSigterm: running,
    exit,
    stoppedCleanly: node.stdout.includes('"msg":"node stopped"'),
    apiPortFree: await portFree(node.api),
    listenPortFree: await portFree(node.listen),
    pidFileLeft: existsSync(join(workdir, node.data, 'chronos-node.pid')),
    stderr: node.stderr.slice(-4000),
    stdoutTail: node.stdout.slice(-2000),
  })
}
process.stdout.write(`${JSON.stringify(report)}\n`)
process.exit(0)
