// A slow clock, told to the operator (issue 13): PROTOCOL.md section 4 makes a node whose clock
// is more than about a round slow refuse every honest peer with IMPOSSIBLE_HEIGHT. The rule
// stays; the node logs one structured warning (rate-limited), and reports the implied offset in
// GET /health and in chronos_clock_suspected_offset_seconds.
import { Writable } from 'node:stream'
import { PEER_CLOSE_REASONS } from '@chronos/peer'
import { tcpTransport } from '@chronos/transport'
import { MemoryLevel } from 'memory-level'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ChronosNode,
  nodeHealth,
  resolveConfig,
  SLOW_CLOCK_WARNING,
  SlowClockCheck,
} from '../src/index.js'
import { history, makeGenesis, silent, until } from './network.js'

const ROUND_MS = 500
const SLOW_MS = -5_000

const running: ChronosNode[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()))
})

/** A pino logger whose records (JSON) a test can read, and wait for. */
function capturingLogger() {
  const records: Record<string, unknown>[] = []
  const waiters: (() => void)[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n'))
        if (line) records.push(JSON.parse(line) as Record<string, unknown>)
      for (const wake of waiters.splice(0)) wake()
      done()
    },
  })
  return { logger: pino({ level: 'warn' }, stream), records }
}

async function start(
  genesis: Parameters<typeof ChronosNode.open>[0]['genesis'],
  options: {
    peers?: string[]
    produce?: boolean
    clockOffsetMs?: number
    preload?: number
    logger?: pino.Logger
  } = {},
): Promise<ChronosNode> {
  const config = resolveConfig(
    {},
    {
      data: '(memory)',
      genesis: '(in memory)',
      listen: '127.0.0.1:0',
      peers: options.peers ?? [],
      produce: options.produce ?? false,
      txRate: 2,
      clockOffsetMs: options.clockOffsetMs ?? 0,
      limits: { statusIntervalMs: 100, reconnectMaxMs: 300 },
    },
  )
  const node = await ChronosNode.open({
    config,
    genesis,
    logger: options.logger ?? silent,
    transport: tcpTransport(),
    db: new MemoryLevel({ valueEncoding: 'utf8' }),
  })
  for (const block of history(genesis, options.preload ?? 0)) await node.store.append(block)
  await node.start()
  running.push(node)
  return node
}

describe('a node whose clock is slow', () => {
  it(`with its clock ${SLOW_MS} ms off, refuses 3 honest peers IMPOSSIBLE_HEIGHT and logs one "${SLOW_CLOCK_WARNING}" warning with the implied offset; health and metrics report it`, async () => {
    // 20 rounds of history: the honest chain is where an honest clock puts it, and grows.
    const genesis = makeGenesis(ROUND_MS, Date.now() - 20 * ROUND_MS)
    const producer = await start(genesis, { produce: true, preload: 18 })
    const followers = [
      await start(genesis, { preload: 18, peers: [producer.address] }),
      await start(genesis, { preload: 18, peers: [producer.address] }),
    ]
    const honest = [producer, ...followers]
    const { logger, records } = capturingLogger()
    const slow = await start(genesis, {
      clockOffsetMs: SLOW_MS,
      peers: honest.map((n) => n.address),
      logger,
    })
    let refusals = 0
    slow.peers.on('closed', ({ info }) => {
      if (info.initiator === 'local' && info.reason === PEER_CLOSE_REASONS.IMPOSSIBLE_HEIGHT)
        refusals++
    })
    const warnings = () => records.filter((r) => r.msg === SLOW_CLOCK_WARNING)
    await until(
      [slow, ...honest],
      () => warnings().length > 0,
      30_000,
      `a "${SLOW_CLOCK_WARNING}" warning on the slow node`,
    )
    const [warning] = warnings()
    console.log(`slow clock (${SLOW_MS} ms): ${JSON.stringify(warning)}`)
    expect(warning).toMatchObject({ level: 40, reason: 'IMPOSSIBLE_HEIGHT' })
    const roundsAhead = warning!.roundsAhead as number
    expect(warning!.peers).toBeGreaterThanOrEqual(3)
    // 10 rounds slow: the peers' heads are at most 10 rounds beyond what its clock allows.
    expect(roundsAhead).toBeGreaterThanOrEqual(1)
    expect(roundsAhead).toBeLessThanOrEqual(-SLOW_MS / ROUND_MS)
    expect(warning!.impliedClockOffsetMs).toBe(-roundsAhead * ROUND_MS)
    expect(String(warning!.hint)).toContain('NTP')

    const health = nodeHealth(slow)
    expect(health.clock).toMatchObject({ state: 'slow' })
    expect(health.clock!.peers).toBeGreaterThanOrEqual(3)
    const scraped = await slow.metrics.registry.getSingleMetricAsString(
      'chronos_clock_suspected_offset_seconds',
    )
    const gauge = Number(/^chronos_clock_suspected_offset_seconds (\S+)$/m.exec(scraped)?.[1])
    expect(gauge).toBeLessThan(0)
    expect(gauge).toBeGreaterThanOrEqual(SLOW_MS / 1000 - ROUND_MS / 1000)
    const refused = await slow.metrics.registry.getSingleMetricAsString(
      'chronos_impossible_height_refusals_total',
    )
    expect(Number(/ (\d+)$/m.exec(refused)?.[1])).toBeGreaterThanOrEqual(3)
    // The honest nodes share a clock: none of them suspects its own.
    for (const node of honest) expect(nodeHealth(node).clock).toBeUndefined()

    // It keeps redialing and refusing; the warning is not repeated (rate limit: 10 minutes).
    const before = refusals
    await until(
      [slow, ...honest],
      () => refusals >= before + 10,
      30_000,
      '10 more IMPOSSIBLE_HEIGHT refusals',
    )
    expect(warnings()).toHaveLength(1)
  }, 60_000)

  it('an honest clock with honest peers: no warning, no clock field in health', async () => {
    const genesis = makeGenesis(ROUND_MS, Date.now() - 20 * ROUND_MS)
    const producer = await start(genesis, { produce: true, preload: 18 })
    const { logger, records } = capturingLogger()
    const follower = await start(genesis, { peers: [producer.address], logger })
    await until(
      [producer, follower],
      () => follower.store.height() >= 20,
      30_000,
      'the follower synced',
    )
    expect(records.filter((r) => r.msg === SLOW_CLOCK_WARNING)).toEqual([])
    expect(nodeHealth(follower).clock).toBeUndefined()
  }, 60_000)
})

describe('SlowClockCheck (clock-check.ts)', () => {
  const check = (options = {}) => {
    let now = 1_000_000
    const c = new SlowClockCheck(ROUND_MS, () => now, { windowMs: 10_000, ...options })
    return { c, advance: (ms: number) => (now += ms) }
  }

  it('one peer refused again and again is not a slow clock: it takes 3 distinct peers in the window', () => {
    const { c } = check()
    for (let i = 0; i < 10; i++) expect(c.refused('a:1', 30, 20).kind).toBe('quiet')
    expect(c.refused('b:1', 30, 20).kind).toBe('quiet')
    const verdict = c.refused('c:1', 25, 20)
    // The least-ahead peer bounds how slow we are: 5 rounds of 500 ms.
    expect(verdict).toMatchObject({
      kind: 'warn',
      slow: { peers: 3, roundsAhead: 5, impliedOffsetMs: -2500 },
    })
  })

  it('warns once per warnIntervalMs while it lasts, and again for a new episode after the window', () => {
    const { c, advance } = check({ warnIntervalMs: 60_000 })
    for (const p of ['a', 'b']) c.refused(p, 30, 20)
    expect(c.refused('c', 30, 20).kind).toBe('warn')
    for (let i = 0; i < 20; i++) {
      advance(1_000)
      expect(c.refused(['a', 'b', 'c'][i % 3]!, 30, 20).kind).toBe('quiet')
    }
    advance(40_000)
    // Still refused by all three: past the interval, warned again.
    for (const p of ['a', 'b']) c.refused(p, 30, 20)
    expect(c.refused('c', 30, 20).kind).toBe('warn')
    // Quiet for longer than the window: over, and no longer in health.
    advance(11_000)
    expect(c.current()).toBeUndefined()
    for (const p of ['a', 'b']) c.refused(p, 30, 20)
    expect(c.refused('c', 30, 20).kind).toBe('warn')
  })

  it('is bounded: a flood of claimed addresses keeps at most maxPeers entries', () => {
    const { c } = check({ maxPeers: 16 })
    for (let i = 0; i < 10_000; i++) c.refused(`10.0.${i >> 8}.${i & 255}:1`, 30, 20)
    expect(c.size).toBe(16)
    expect(c.current()?.peers).toBe(16)
  })
})
