// The soak: N node processes on loopback, each behind a partition proxy,
// under a seeded fault schedule (SIGKILL and restart, partition and heal, a
// skewed clock, hostile peers), with the invariants of invariants.ts
// evaluated every round. Permissioned by default (protocol 1.1): every node
// has its own key, the genesis lists some of them as producers, only those
// produce, and every node requires identities; `--open` runs the 1.0-style
// open network instead. Prints the schedule first and a table per invariant
// last; resolves with the violations and the run's figures.
//
//   node --import tsx --conditions=@chronos/source apps/node/test/soak/soak.ts \
//     [--minutes 20] [--seed N] [--nodes 10] [--producers 4] [--open] [--round-ms 2000] [--rss-limit-mb 600]
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { openChainStore } from '@chronos/chain-store'
import {
  type Block,
  type BlockRules,
  type NodeKey,
  readNetworkParams,
  verifySeal,
} from '@chronos/codec'
import { readKeyFile } from '../../src/node-key.js'
import { run } from '../cli-process.js'
import { tempDir } from '../network.js'
import { type Attack, type LiveTarget, soakAttacks } from './attacks.js'
import {
  type BlockSeen,
  blockSeen,
  evaluateRound,
  formatTallies,
  type NodeRound,
  type SoakState,
  type Tally,
  tally,
} from './invariants.js'
import { LogTail } from './log-tail.js'
import { NodeProxy } from './proxy.js'
import { describeFault, drawSchedule, type Fault } from './schedule.js'

export interface SoakOptions {
  minutes: number
  seed: number
  nodes: number
  roundMs: number
  rssLimitMb: number
  /** An open network: no producers listed, every node produces, identities not required. */
  open?: boolean
  /** Largest slow clock of a skew fault, ms (default 10 s, as fast clocks): see schedule.ts. */
  maxSlowMs?: number
  /** Nodes the genesis lists as producers (permissioned only; default 4). */
  producers?: number
  /** Where the schedule, progress and tables go. */
  log?: (line: string) => void
}

export interface SoakResult {
  violations: number
  tallies: Tally[]
  /** Rounds run, and of them looked at. */
  rounds: number
  looked: number
  faults: Record<Fault['kind'], number>
  hostileRun: number
  peakRssMb: number
}

/** Largest frame body of the soak's nodes (the poison block is sized to it). */
const MAX_BODY_BYTES = 1024 * 1024

/** Runs the CLI to completion (a subcommand such as `key` or `genesis`): its standard output. */
async function cli(args: string[]): Promise<string> {
  const child = run(args)
  const code = await child.exited
  if (code !== 0)
    throw new Error(`chronos-node ${args[0]} exited ${code}: ${child.output().stderr}`)
  return child.output().stdout
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
  /** The typed closes in the current process's log. */
  tail: LogTail | undefined
  /** Its connections' closes by initiator and reason, over all its processes. */
  readonly closes = new Map<string, number>()
  /** Blocks it served by hash, as judged (bounded: the last 64). */
  readonly seen = new Map<string, BlockSeen>()

  remember(hash: string, block: BlockSeen): void {
    this.seen.set(hash, block)
    if (this.seen.size > 64) this.seen.delete(this.seen.keys().next().value!)
  }
  api: string | undefined
  upSince: number | undefined
  skewMs = 0
  proxyPort = 0

  constructor(
    readonly index: number,
    readonly data: string,
    public realPort: number,
    readonly producer: boolean,
    private readonly roundNow: () => number,
    private readonly args: () => string[],
  ) {}

  get pid(): number | undefined {
    return this.process?.child.pid
  }

  /** Starts its process (with the clock `skewMs` off); up from the round its API answered in. */
  async start(skewMs = 0): Promise<void> {
    this.skewMs = skewMs
    for (let attempt = 1; ; attempt++) {
      const child = run([...this.args(), ...(skewMs ? ['--clock-offset-ms', String(skewMs)] : [])])
      this.process = child
      this.tail = new LogTail(child.child.stdout!, this.closes)
      try {
        const line = await child.logLine((l) => l.msg === 'API listening')
        this.api = String(line.api)
        this.upSince = this.roundNow()
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
    if (!child || child.child.exitCode !== null || child.child.signalCode !== null) return
    child.child.kill(signal)
    // A node that does not stop on SIGTERM within 15 s is killed: the soak never hangs on one.
    const stopped = await Promise.race([
      child.exited.then(() => true),
      sleep(15_000).then(() => false),
    ])
    if (!stopped) {
      child.child.kill('SIGKILL')
      await child.exited
    }
  }
}

export async function soak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? ((line: string) => console.log(line))
  const { roundMs } = options
  const permissioned = !options.open
  const rounds = Math.max(20, Math.floor((options.minutes * 60_000) / roundMs))
  const dir = tempDir('chronos-soak-')
  // Everything below runs in the try, so the temp dir and every process go even on a failure.
  const nodes: SoakNode[] = []
  const proxies: NodeProxy[] = []
  try {
    return await soakIn(dir.path, nodes, proxies)
  } finally {
    for (const n of nodes) await n.kill('SIGKILL')
    for (const p of proxies) await p.close()
    dir.remove()
  }

  async function soakIn(
    root: string,
    nodes: SoakNode[],
    proxies: NodeProxy[],
  ): Promise<SoakResult> {
    // Each node's own key, made by the CLI into its data directory (where `start` finds it).
    const dataOf = (i: number) => join(root, `node-${i}`)
    const keys: string[] = (
      await Promise.all(
        Array.from({ length: options.nodes }, (_, i) =>
          cli(['key', '--out', join(dataOf(i), 'node-key.json')]),
        ),
      )
    ).map((out) => out.trim())
    // Producers spread over the ring (0, 2, 5, 7 of 10), so a partition rarely leaves a side without one.
    const producerCount = permissioned
      ? Math.min(options.producers ?? 4, options.nodes)
      : options.nodes
    const producerIndices = new Set(
      Array.from({ length: producerCount }, (_, k) =>
        Math.floor((k * options.nodes) / producerCount),
      ),
    )
    const listed = [...producerIndices].map((i) => keys[i]!)
    const genesisFile = join(root, 'genesis.json')
    await cli([
      'genesis',
      '--network',
      'soak',
      '--round-ms',
      String(roundMs),
      '--start',
      String(Date.now() + 2 * roundMs),
      ...(permissioned ? listed.flatMap((k) => ['--producer', k]) : []),
      '--out',
      genesisFile,
    ])
    const genesis = JSON.parse(readFileSync(genesisFile, 'utf8')) as Block
    const rules: BlockRules = { network: readNetworkParams(genesis) }
    // The soak holds the producers' keys: the poison block is sealed with one, so only the check under test refuses it.
    const listedKey: NodeKey | undefined = permissioned
      ? readKeyFile(join(dataOf([...producerIndices][0]!), 'node-key.json'))
      : undefined
    const configFile = join(root, 'config.json')
    // Quick redials, so a heal is not masked by a 30 s backoff; frequent status beats; a
    // stalled frame closes before the 5 s handshake deadline (the slowloris case expects
    // FRAME_TIMEOUT); frames sized for the poison block.
    writeFileSync(
      configFile,
      JSON.stringify({
        limits: {
          reconnectMaxMs: Math.max(500, roundMs / 2),
          statusIntervalMs: 500,
          frameTimeoutMs: 2_000,
          maxBodyBytes: MAX_BODY_BYTES,
        },
      }),
    )
    const attacks: Attack[] = soakAttacks.filter((a) => permissioned || !a.permissionedOnly)
    const roundNow = () => Math.floor((Date.now() - genesis.block_header.timestamp) / roundMs)

    const schedule = drawSchedule({
      seed: options.seed,
      nodes: options.nodes,
      rounds,
      warmup: 8,
      cooldown: 10,
      maxSkewMs: 10_000,
      maxSlowMs: options.maxSlowMs,
      attacks: attacks.map((a) => a.name),
      hostileEvery: 2,
    })
    log(
      `soak: ${options.nodes} nodes, ${rounds} rounds of ${roundMs} ms, seed ${options.seed}, ${
        permissioned
          ? `permissioned: producers ${[...producerIndices].join(',')} of ${options.nodes}, identities required`
          : 'open network: every node produces'
      }`,
    )
    log(`fault schedule (${schedule.length} faults):`)
    for (const f of schedule) log(`  ${describeFault(f)}`)

    // Partition state: which group each node is in while a partition holds.
    let groupOf: number[] | undefined
    // Who opened a connection: by the key its opening SHAKEHAND carries (1.1), else its address.
    const advertised = new Map<string, number>()
    for (const [i, key] of keys.entries()) advertised.set(key, i)
    for (let i = 0; i < options.nodes; i++) {
      const realPort = await freePort()
      const producer = producerIndices.has(i)
      const node: SoakNode = new SoakNode(
        i,
        dataOf(i),
        realPort,
        producer,
        roundNow,
        (): string[] => [
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
          ...peersOf(i).flatMap((p) => [
            '--peer',
            `${permissioned ? `${keys[p]}@` : ''}127.0.0.1:${nodes[p]!.proxyPort}`,
          ]),
          ...(producer ? ['--produce', '--tx-rate', '5'] : []),
          ...(permissioned ? ['--require-identity'] : []),
          '--api',
          '127.0.0.1:0',
          '--log-level',
          'info',
        ],
      )
      const proxy = new NodeProxy(i, () => ({ host: '127.0.0.1', port: node.realPort }), {
        identify: (address, key) =>
          (key === undefined ? undefined : advertised.get(key)) ?? advertised.get(address),
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
      offeredStored: [],
      producers: permissioned ? listed : undefined,
      diskSeals: [],
      rssLimitMb: options.rssLimitMb,
      healRounds: 5,
      syncLag: 5,
    }
    const tallies = tally()
    // A fault's actions run on its lane (one per node; partitions on their own), in order, beside
    // the round loop: a restart that takes seconds under load never delays the looking.
    const pending: { round: number; lane: string; action: () => Promise<void>; done?: boolean }[] =
      []
    const at = (round: number, lane: string, action: () => Promise<void>) =>
      pending.push({ round, lane, action })
    const lanes = new Map<string, Promise<void>>()
    const enqueue = (lane: string, action: () => Promise<void>) =>
      lanes.set(
        lane,
        (lanes.get(lane) ?? Promise.resolve()).then(action).catch((error: Error) => {
          // A node that cannot be restarted is a failure of the run, not of the soak.
          log(`fault action on ${lane} failed: ${error.message}`)
          state.diskChecks.push({
            round: roundNow(),
            node: Number(lane.replace('node', '')),
            ok: false,
            detail: `fault action failed: ${error.message}`,
          })
        }),
      )
    let skipped = 0
    let peakRssMb = 0
    let hostileRun = 0
    const inflight = new Set<Promise<void>>()

    async function verifyOnDisk(node: SoakNode, round: number): Promise<void> {
      try {
        const store = await openChainStore({ genesis, location: join(node.data, 'chain') })
        const report = await store.verify()
        if (permissioned) {
          const bad: string[] = []
          for await (const b of store.blocks(1))
            if (
              !listed.includes(b.block_header.producer) ||
              !verifySeal(b, genesis.block_header.hash)
            )
              bad.push(`height ${b.block_header.height} by ${b.block_header.producer.slice(0, 12)}`)
          state.diskSeals.push({
            round,
            node: node.index,
            ok: bad.length === 0,
            detail: bad.length ? bad.join('; ') : `${store.height()} blocks sealed by listed keys`,
          })
        }
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
          at(f.round, `node${f.node}`, async () => {
            const node = nodes[f.node]!
            await node.kill('SIGKILL')
            await verifyOnDisk(node, roundNow())
          })
          at(f.round + f.downRounds, `node${f.node}`, () => nodes[f.node]!.start())
          return
        case 'partition':
          at(f.round, 'partition', async () => {
            groupOf = []
            for (const i of f.groups[0]) groupOf[i] = 0
            for (const i of f.groups[1]) groupOf[i] = 1
            for (const p of proxies) p.cut()
          })
          at(f.round + f.rounds, 'partition', async () => {
            groupOf = undefined
            state.heals.push(roundNow())
          })
          return
        case 'skew':
          at(f.round, `node${f.node}`, async () => {
            await nodes[f.node]!.kill('SIGTERM')
            await nodes[f.node]!.start(f.offsetMs)
          })
          at(f.round + f.rounds, `node${f.node}`, async () => {
            await nodes[f.node]!.kill('SIGTERM')
            await nodes[f.node]!.start(0)
          })
          return
        case 'hostile':
          at(f.round, 'hostile', async () => {
            const running = attack(nodes[f.node]!, attacks.find((a) => a.name === f.attack)!)
            inflight.add(running)
            void running.finally(() => inflight.delete(running))
          })
      }
    }

    /** Runs one hostile peer against `node`, then asks every node whether it stored what it offered. */
    async function attack(node: SoakNode, input: Attack): Promise<void> {
      const process_ = node.process
      const tail = node.tail
      if (!process_ || !tail || !node.api) return // down (a kill overlapped): nothing to judge
      const began = Date.now()
      const target: LiveTarget = {
        index: node.index,
        address: `127.0.0.1:${node.realPort}`,
        api: node.api,
        genesis,
        roundMs,
        maxBodyBytes: MAX_BODY_BYTES,
        permissioned,
        closeOf: (remote, timeoutMs) => tail.closeOf(remote, timeoutMs),
        closesSince: () => tail.since(began),
        listedKey,
      }
      hostileRun++
      let outcome: Awaited<ReturnType<Attack['run']>>
      try {
        outcome = await input.run(target)
      } catch (error) {
        // The node restarted meanwhile (a kill or skew of the schedule): nothing to judge.
        if (node.process !== process_) return
        outcome = { ok: false, detail: `the attack failed: ${(error as Error).message}` }
      }
      // A restart meanwhile loses the log lines the verdict reads: judge only a steady target.
      if (node.process !== process_ || outcome.skipped) return
      state.hostile.push({ round: roundNow(), node: node.index, attack: input.name, ...outcome })
      if (!outcome.offered?.length) return
      // A block taken would be confirmed by the round's end: ask a round later.
      await sleep(roundMs)
      for (const other of nodes) {
        if (!other.api) continue
        for (const hash of outcome.offered) {
          const response = await fetch(`${other.api}/blocks/${hash}`, {
            signal: AbortSignal.timeout(5000),
          }).catch(() => undefined)
          if (!response) continue // down or too slow: not judged
          await response.arrayBuffer()
          state.offeredStored.push({
            round: roundNow(),
            node: other.index,
            ok: response.status === 404,
            detail: `${input.name}: block ${hash.slice(0, 12)} ${response.status === 404 ? 'not stored' : `HTTP ${response.status}: stored`}`,
          })
        }
      }
    }

    async function observe(node: SoakNode): Promise<NodeRound> {
      const view: NodeRound = {
        index: node.index,
        alive: false,
        upSince: node.upSince,
        skewMs: node.skewMs,
        producer: node.producer,
        blocks: new Map(),
        rssMb: rssMb(node.pid),
      }
      peakRssMb = Math.max(peakRssMb, view.rssMb ?? 0)
      if (!node.api) return view
      try {
        // The head from /status, then down by prev_hash through blocks asked by hash: a block's
        // hash names it for good, so the walk is a consistent snapshot however the head moves
        // meanwhile, and the blocks this node served before come from its cache (usually one
        // request a round besides /status: under load, looking must stay cheap).
        const status = (await getJson(`${node.api}/status`)) as { height: number; head: string }
        view.alive = true
        view.height = status.height
        view.head = status.head
        let hash = status.head
        for (let height = status.height; height >= Math.max(0, status.height - 5); height--) {
          let seen = node.seen.get(hash)
          if (!seen) {
            const block = await getJson(`${node.api}/blocks/${hash}`).catch(() => undefined)
            if (!block) {
              // Killed mid-walk (its lane runs beside the look) or reorged away meanwhile: a
              // partial view would read as a chain lacking blocks. Not looked at this round.
              view.alive = false
              view.blocks.clear()
              break
            }
            seen = blockSeen(block as never, rules)
            node.remember(hash, seen)
          }
          view.blocks.set(seen.height, seen)
          hash = seen.prev
        }
      } catch {
        // Down, or too slow to answer within 3 s: not alive this round.
      }
      return view
    }

    let violations = 0
    let looked = 0
    {
      await Promise.all(nodes.map((n) => n.start()))
      // The schedule counts rounds from here: starting 10 processes takes a few rounds.
      const first = roundNow() + 1
      for (const f of schedule) schedule_({ ...f, round: f.round + first } as Fault)
      log(
        `soak: ${options.nodes} nodes up at round ${first - 1}; schedule round 0 is round ${first}`,
      )
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
          if (p.lane === 'partition' || p.lane === 'hostile') await p.action()
          else enqueue(p.lane, p.action)
        }
        const views = await Promise.all(nodes.map((n) => observe(n)))
        // Views taken later than the next round are not this round's (a starved soak took that
        // long to look): judging them as this round's would find stalls that never were.
        if (roundNow() > round + 1) {
          log(`round ${String(round).padStart(4)}  (looked until round ${roundNow()}: not judged)`)
          skipped++
          continue
        }
        looked++
        state.records.push({
          round,
          nodes: views,
          partitioned: groupOf !== undefined,
          groups: groupOf ? [...groupOf] : undefined,
        })
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
    }
    // The last faults and hostile peers finish (each bounded by its deadlines), then the nodes stop.
    await Promise.allSettled([...lanes.values(), ...inflight])
    for (const n of nodes) await n.kill('SIGTERM')
    const end = roundNow()
    for (const n of nodes) await verifyOnDisk(n, end)
    violations += evaluateRound(tallies, state, end).length
    const faults = { kill: 0, partition: 0, skew: 0, hostile: 0 }
    for (const f of schedule) faults[f.kind]++
    log('')
    log('connection closes per node (initiator reason[/code]: count), from the node logs:')
    for (const n of nodes)
      log(
        `  node ${n.index}${n.producer ? ' (producer)' : ''}: ${[...n.closes]
          .sort((a, b) => b[1] - a[1])
          .map(([what, count]) => `${what}: ${count}`)
          .join(', ')}`,
      )
    log('')
    log(formatTallies(tallies))
    log(
      `rounds ${rounds}, looked at ${looked} (${skipped} not: the soak fell behind under load); faults: ${faults.kill} kills, ${faults.partition} partitions, ${faults.skew} skews, ${hostileRun} of ${faults.hostile} hostile peers run; peak RSS ${peakRssMb} MiB`,
    )
    log(
      `\nsoak: ${violations === 0 ? 'all invariants held' : `${violations} violation(s)`}; partition refusals ${proxies.reduce((s, p) => s + p.refused, 0)}`,
    )
    return { violations, tallies, rounds, looked, faults, hostileRun, peakRssMb }
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { parseArgs } = await import('node:util')
  // `pnpm soak -- --minutes 8` hands the script a literal `--` first (pnpm 10): not an argument.
  const args = process.argv.slice(2)
  if (args[0] === '--') args.shift()
  const { values } = parseArgs({
    args,
    options: {
      minutes: { type: 'string', default: '20' },
      seed: { type: 'string', default: String(Date.now() % 100_000) },
      nodes: { type: 'string', default: '10' },
      'round-ms': { type: 'string', default: '2000' },
      'rss-limit-mb': { type: 'string', default: '600' },
      producers: { type: 'string', default: '4' },
      'max-slow-ms': { type: 'string', default: '10000' },
      open: { type: 'boolean', default: false },
    },
  })
  const { violations } = await soak({
    minutes: Number(values.minutes),
    seed: Number(values.seed),
    nodes: Number(values.nodes),
    roundMs: Number(values['round-ms']),
    rssLimitMb: Number(values['rss-limit-mb']),
    producers: Number(values.producers),
    maxSlowMs: Number(values['max-slow-ms']),
    open: values.open,
  })
  process.exit(violations === 0 ? 0 : 1)
}
