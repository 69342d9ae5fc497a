// The soak: N node processes on loopback, all producing, each behind a
// partition proxy, under a seeded fault schedule (SIGKILL and restart,
// partition and heal, a skewed clock, hostile peers), with the invariants of
// invariants.ts evaluated every round. Prints the schedule first and a table
// per invariant last; resolves with the number of violations.
//
//   node --import tsx --conditions=@chronos/source apps/node/test/soak/soak.ts \
//     [--minutes 20] [--seed N] [--nodes 10] [--round-ms 2000] [--rss-limit-mb 600]
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { openChainStore } from '@chronos/chain-store'
import { type Block, type BlockRules, createGenesis, readNetworkParams } from '@chronos/codec'
import { run } from '../cli-process.js'
import { jsonFrame, RawPeer } from '../hostile/raw-peer.js'
import { tempDir } from '../network.js'
import {
  blockSeen,
  evaluateRound,
  formatTallies,
  type NodeRound,
  type SoakState,
  tally,
} from './invariants.js'
import { NodeProxy } from './proxy.js'
import { describeFault, drawSchedule, type Fault, type HostileAttack } from './schedule.js'

export interface SoakOptions {
  minutes: number
  seed: number
  nodes: number
  roundMs: number
  rssLimitMb: number
  /** Where the schedule, progress and tables go. */
  log?: (line: string) => void
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)
    return kb ? Math.round(Number(kb[1]) / 1024) : undefined
  } catch {
    return undefined
  }
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) })
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`)
  return response.json()
}

class SoakNode {
  process: ReturnType<typeof run> | undefined
  api: string | undefined
  upSince: number | undefined
  skewMs = 0
  proxyPort = 0

  constructor(
    readonly index: number,
    readonly data: string,
    public realPort: number,
    private readonly args: () => string[],
  ) {}

  get pid(): number | undefined {
    return this.process?.child.pid
  }

  async start(round: number, skewMs = 0): Promise<void> {
    this.skewMs = skewMs
    for (let attempt = 1; ; attempt++) {
      const child = run([...this.args(), ...(skewMs ? ['--clock-offset-ms', String(skewMs)] : [])])
      this.process = child
      try {
        const line = await child.logLine((l) => l.msg === 'API listening')
        this.api = String(line.api)
        this.upSince = round
        return
      } catch (error) {
        // Another process took the port between freePort() and the listen: move (the proxy follows).
        if (attempt >= 3 || !child.output().stderr.includes('EADDRINUSE')) throw error
        this.realPort = await freePort()
      }
    }
  }

  async kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.process
    this.process = undefined
    this.api = undefined
    this.upSince = undefined
    if (!child) return
    child.child.kill(signal)
    await child.exited
  }
}

export async function soak(options: SoakOptions): Promise<number> {
  const log = options.log ?? ((line: string) => console.log(line))
  const { roundMs } = options
  const rounds = Math.max(20, Math.floor((options.minutes * 60_000) / roundMs))
  const dir = tempDir('chronos-soak-')
  const genesis: Block = createGenesis({
    network: 'soak',
    roundMs,
    timestamp: Date.now() + 2 * roundMs,
  })
  const rules: BlockRules = { network: readNetworkParams(genesis) }
  const genesisFile = join(dir.path, 'genesis.json')
  writeFileSync(genesisFile, JSON.stringify(genesis))
  const configFile = join(dir.path, 'config.json')
  // Quick redials, so a heal is not masked by a 30 s backoff; frequent status beats.
  writeFileSync(
    configFile,
    JSON.stringify({
      limits: { reconnectMaxMs: Math.max(500, roundMs / 2), statusIntervalMs: 500 },
    }),
  )
  const roundNow = () => Math.floor((Date.now() - genesis.block_header.timestamp) / roundMs)

  const schedule = drawSchedule({
    seed: options.seed,
    nodes: options.nodes,
    rounds,
    warmup: 8,
    cooldown: 10,
    maxSkewMs: 10_000,
  })
  log(`soak: ${options.nodes} nodes, ${rounds} rounds of ${roundMs} ms, seed ${options.seed}`)
  log(`fault schedule (${schedule.length} faults):`)
  for (const f of schedule) log(`  ${describeFault(f)}`)

  // Partition state: which group each node is in while a partition holds.
  let groupOf: number[] | undefined
  const proxies: NodeProxy[] = []
  const advertised = new Map<string, number>()
  const nodes: SoakNode[] = []
  for (let i = 0; i < options.nodes; i++) {
    const realPort = await freePort()
    const node: SoakNode = new SoakNode(i, join(dir.path, `node-${i}`), realPort, (): string[] => [
      'start',
      '--config',
      configFile,
      '--data',
      node.data,
      '--genesis',
      genesisFile,
      '--listen',
      `127.0.0.1:${node.realPort}`,
      '--advertise',
      `127.0.0.1:${node.proxyPort}`,
      ...peersOf(i).flatMap((p) => ['--peer', `127.0.0.1:${nodes[p]!.proxyPort}`]),
      '--produce',
      '--tx-rate',
      '5',
      '--api',
      '127.0.0.1:0',
      '--log-level',
      'info',
    ])
    const proxy = new NodeProxy(i, () => ({ host: '127.0.0.1', port: node.realPort }), {
      identify: (address) => advertised.get(address),
      blocked: (from, to) => groupOf !== undefined && groupOf[from] !== groupOf[to],
    })
    node.proxyPort = await proxy.listen()
    advertised.set(`127.0.0.1:${node.proxyPort}`, i)
    nodes.push(node)
    proxies.push(proxy)
  }
  // Each node dials its ring neighbour and two others (dial-backs make it both ways).
  function peersOf(i: number): number[] {
    const n = options.nodes
    return [...new Set([(i + 1) % n, (i + 3) % n, (i + 5) % n])].filter((p) => p !== i)
  }

  const state: SoakState = {
    records: [],
    heals: [],
    settledHeals: new Set(),
    diskChecks: [],
    hostile: [],
    rssLimitMb: options.rssLimitMb,
    healRounds: 5,
    syncLag: 5,
  }
  const tallies = tally()
  const pending: { round: number; action: () => Promise<void>; done?: boolean }[] = []
  const at = (round: number, action: () => Promise<void>) => pending.push({ round, action })
  let skipped = 0

  async function verifyOnDisk(node: SoakNode, round: number): Promise<void> {
    try {
      const store = await openChainStore({ genesis, location: join(node.data, 'chain') })
      const report = await store.verify()
      await store.close()
      state.diskChecks.push({
        round,
        node: node.index,
        ok: report.ok,
        detail: report.ok ? `verified to height ${report.height}` : JSON.stringify(report),
      })
    } catch (error) {
      state.diskChecks.push({
        round,
        node: node.index,
        ok: false,
        detail: (error as Error).message,
      })
    }
  }

  function schedule_(f: Fault): void {
    switch (f.kind) {
      case 'kill':
        at(f.round, async () => {
          const node = nodes[f.node]!
          await node.kill('SIGKILL')
          await verifyOnDisk(node, f.round)
        })
        at(f.round + f.downRounds, () => nodes[f.node]!.start(f.round + f.downRounds))
        return
      case 'partition':
        at(f.round, async () => {
          groupOf = []
          for (const i of f.groups[0]) groupOf[i] = 0
          for (const i of f.groups[1]) groupOf[i] = 1
          for (const p of proxies) p.cut()
        })
        at(f.round + f.rounds, async () => {
          groupOf = undefined
          state.heals.push(f.round + f.rounds)
        })
        return
      case 'skew':
        at(f.round, async () => {
          await nodes[f.node]!.kill('SIGTERM')
          await nodes[f.node]!.start(f.round, f.offsetMs)
        })
        at(f.round + f.rounds, async () => {
          await nodes[f.node]!.kill('SIGTERM')
          await nodes[f.node]!.start(f.round + f.rounds, 0)
        })
        return
      case 'hostile':
        at(f.round, async () => {
          void attack(nodes[f.node]!, f.attack).then((outcome) => {
            if (outcome)
              state.hostile.push({ round: roundNow(), node: f.node, attack: f.attack, ...outcome })
          })
        })
    }
  }

  async function attack(node: SoakNode, kind: HostileAttack) {
    let peer: RawPeer
    try {
      peer = await RawPeer.connect(`127.0.0.1:${node.realPort}`)
    } catch {
      return undefined // the node is down (a kill overlapped): nothing to judge
    }
    const status = {
      timestamp: Date.now(),
      height: 0,
      address: '127.0.0.1:1',
      genesis: genesis.block_header.hash,
    }
    const closedWithin = async (ms: number) => {
      const closed = await Promise.race([peer.closed.then(() => true), sleep(ms).then(() => false)])
      peer.close()
      return closed
        ? { ok: true, detail: 'disconnected' }
        : { ok: false, detail: `still connected after ${ms} ms` }
    }
    switch (kind) {
      case 'garbage-bytes':
        peer.write(Buffer.from('00000010{{{{{{{{{{{{{{{{{{{{', 'latin1'))
        return closedWithin(10_000)
      case 'other-genesis':
        peer.send({ code: 'SHAKEHAND', data: { ...status, genesis: 'e'.repeat(64) } })
        return closedWithin(10_000)
      case 'malformed-block': {
        peer.send({ code: 'SHAKEHAND', data: status })
        const head = {
          ...genesis,
          block_header: { ...genesis.block_header, height: 1, hash: 'a'.repeat(64) },
        }
        peer.send({ code: 'NEW_BLOCK', data: head })
        return closedWithin(10_000)
      }
      case 'pull-flood-unread': {
        peer.send({ code: 'SHAKEHAND', data: status })
        peer.stopReading()
        const frame = jsonFrame({ code: 'PULL_BLOCK', data: 0 })
        for (let i = 0; i < 2000; i++) peer.write(frame)
        await sleep(3000)
        peer.close()
        return undefined // judged by the node staying alive and advancing
      }
      case 'partial-frame':
        peer.write(jsonFrame({ code: 'PULL_BLOCK', data: 0 }).subarray(0, 6))
        await sleep(3000)
        peer.close()
        return undefined
    }
  }

  async function observe(node: SoakNode): Promise<NodeRound> {
    const view: NodeRound = {
      index: node.index,
      alive: false,
      upSince: node.upSince,
      skewMs: node.skewMs,
      blocks: new Map(),
      rssMb: rssMb(node.pid),
    }
    if (!node.api) return view
    try {
      // A consistent snapshot: the head must not move while its top blocks are read
      // (a block confirmed or a reorg between two requests is not a broken chain).
      for (let attempt = 0; attempt < 3; attempt++) {
        const before = (await getJson(`${node.api}/status`)) as { height: number; head: string }
        const from = Math.max(0, before.height - 5)
        const blocks = await Promise.all(
          Array.from({ length: before.height - from + 1 }, (_, k) =>
            getJson(`${node.api}/blocks/${from + k}`).catch(() => undefined),
          ),
        )
        const after = (await getJson(`${node.api}/status`)) as { height: number; head: string }
        view.alive = true
        view.height = after.height
        view.head = after.head
        if (after.head !== before.head) continue
        for (const b of blocks)
          if (b) {
            const seen = blockSeen(b as never, rules)
            view.blocks.set(seen.height, seen)
          }
        break
      }
    } catch {
      // Down, or too slow to answer within 3 s: not alive this round.
    }
    return view
  }

  let violations = 0
  try {
    await Promise.all(nodes.map((n) => n.start(roundNow())))
    // The schedule counts rounds from here: starting 10 processes takes a few rounds.
    const first = roundNow() + 1
    for (const f of schedule) schedule_({ ...f, round: f.round + first } as Fault)
    log(`soak: ${options.nodes} nodes up at round ${first - 1}; schedule round 0 is round ${first}`)
    for (let round = first; round < first + rounds; round++) {
      // Act and look in the second half of each round, when its candidates have spread.
      await sleep(genesis.block_header.timestamp + round * roundMs + roundMs * 0.6 - Date.now())
      // Under load a round of looking can outlast the round: records carry the real round,
      // and the rounds missed meanwhile are not looked at (their faults still happen, late).
      if (roundNow() > round) {
        skipped += roundNow() - round
        round = roundNow()
      }
      for (const p of pending.filter((p) => p.round <= round && !p.done)) {
        p.done = true
        await p.action()
      }
      const views = await Promise.all(nodes.map((n) => observe(n)))
      state.records.push({ round, nodes: views, partitioned: groupOf !== undefined })
      const failed = evaluateRound(tallies, state, round)
      violations += failed.length
      const heights = views.map((v) => (v.alive ? String(v.height) : '-')).join(' ')
      log(
        `round ${String(round).padStart(4)}  heights ${heights}${groupOf ? '  [partitioned]' : ''}${
          failed.length
            ? `  VIOLATION ${failed.map((f) => `node ${f.node}: ${f.detail}`).join('; ')}`
            : ''
        }`,
      )
      // Keep memory flat over long runs: old rounds are no longer looked at.
      if (state.records.length > 40) state.records.shift()
    }
  } finally {
    for (const n of nodes) await n.kill('SIGTERM')
    const end = roundNow()
    for (const n of nodes) await verifyOnDisk(n, end)
    violations += evaluateRound(tallies, state, end).length
    for (const p of proxies) await p.close()
    log('')
    log(formatTallies(tallies))
    log(`rounds not looked at (the soak fell behind under load): ${skipped}`)
    log(
      `\nsoak: ${violations === 0 ? 'all invariants held' : `${violations} violation(s)`}; partition refusals ${proxies.reduce((s, p) => s + p.refused, 0)}`,
    )
    dir.remove()
  }
  return violations
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { parseArgs } = await import('node:util')
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '20' },
      seed: { type: 'string', default: String(Date.now() % 100_000) },
      nodes: { type: 'string', default: '10' },
      'round-ms': { type: 'string', default: '2000' },
      'rss-limit-mb': { type: 'string', default: '600' },
    },
  })
  const violations = await soak({
    minutes: Number(values.minutes),
    seed: Number(values.seed),
    nodes: Number(values.nodes),
    roundMs: Number(values['round-ms']),
    rssLimitMb: Number(values['rss-limit-mb']),
  })
  process.exit(violations === 0 ? 0 : 1)
}
