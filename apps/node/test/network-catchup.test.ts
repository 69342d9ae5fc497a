// Catching up inside a round (issue 11 "A bug to fix first", PROTOCOL.md section 7): a node
// one block behind holds the round's candidates while sync fetches their parent and confirms
// them; blocks that arrive while the round's pick is appended are held, not dropped.
import { type Block, createBlock, roundEnd, roundOf, roundStart } from '@chronos/codec'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChronosNode } from '../src/index.js'
import { RawPeer } from './hostile/raw-peer.js'
import { history, makeGenesis, nextRound, oneHead, rounds, startNode, until } from './network.js'

const running = new Set<ChronosNode>()
const closers: (() => void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) close()
  await Promise.all([...running].map((n) => n.stop()))
  running.clear()
})

async function start(options: Parameters<typeof startNode>[0]): Promise<ChronosNode> {
  const node = await startNode(options)
  running.add(node)
  return node
}

const child = (parent: Block, timestamp: number, tag: string): Block =>
  createBlock({
    height: parent.block_header.height + 1,
    prevHash: parent.block_header.hash,
    timestamp,
    producer: tag,
    transactions: [{ tag }],
  })

const confirmedIn = (node: ChronosNode, round: number) =>
  new Promise<string | undefined>((resolve) => {
    const onConfirmed = (block: Block, r: number) => r === round && finish(block.block_header.hash)
    const onEmpty = (r: number) => r === round && finish(undefined)
    const finish = (hash: string | undefined) => {
      node.gossip.off('confirmed', onConfirmed).off('empty', onEmpty)
      resolve(hash)
    }
    node.gossip.on('confirmed', onConfirmed).on('empty', onEmpty)
  })

describe('catching up inside a round', () => {
  it('a node one block behind in two consecutive rounds confirms both rounds candidates', async () => {
    const roundMs = 1500
    const genesis = makeGenesis(roundMs, Date.now() - 10 * roundMs)
    const base = history(genesis, 3)
    // A serves sync only: its chain is what the test appends; it runs no rounds of its own.
    const a = await start({ genesis, preload: base })
    a.gossip.stop()
    const b = await start({ genesis, preload: base, peers: [a.address] })
    await until([b], () => b.peers.readyPeers().length === 1, 10_000, 'B connected to A')
    // The candidates come from a Client of B's (a producer B has no other route to).
    const producer = await RawPeer.connect(b.address, '127.0.0.4')
    closers.push(() => producer.close())
    producer.send({
      code: 'SHAKEHAND',
      data: {
        timestamp: Date.now(),
        height: 0,
        address: '127.0.0.4:9',
        genesis: genesis.block_header.hash,
      },
    })
    expect(await producer.next('SHAKEHAND')).toBeDefined()
    const held: string[] = []
    b.gossip.on('held', (block, info) => held.push(`${block.block_header.producer} ${info.reason}`))
    const clock = b.store.params

    // Round r: A has P (of round r-1), B does not; the candidate C1 is on P.
    const r = await nextRound(b)
    const p = child(base.at(-1)!, roundStart(r, clock) - 1, 'p')
    await a.store.append(p)
    const c1 = child(p, Math.max(Date.now(), roundStart(r, clock)) + 5, 'c1')
    const first = confirmedIn(b, r)
    producer.send({ code: 'NEW_BLOCK', data: c1 })
    expect(await first).toBe(c1.block_header.hash)

    // Round r+1: A replaced C1 by a better block P2 of round r, which B never saw; C2 is on P2.
    let p2 = child(p, roundStart(r, clock) + 10, 'p2-0')
    for (let i = 1; p2.block_header.hash > c1.block_header.hash; i++)
      p2 = child(p, roundStart(r, clock) + 10, `p2-${i}`)
    await a.store.append(p2)
    await until([b], () => b.gossip.currentRound === r + 1, 10_000, 'round r+1 on B')
    const c2 = child(p2, Math.max(Date.now(), roundStart(r + 1, clock)) + 5, 'c2')
    expect(roundOf(c2.block_header.timestamp, clock)).toBe(r + 1)
    const second = confirmedIn(b, r + 1)
    producer.send({ code: 'NEW_BLOCK', data: c2 })
    expect(await second).toBe(c2.block_header.hash)
    expect(held).toEqual(['c1 ORPHAN', 'c2 ORPHAN'])
    expect(b.store.head().block_header.hash).toBe(c2.block_header.hash)
  }, 30_000)

  it('a late joiner in a producing network confirms each round whose block reaches it within the round: confirmed_total rises', async () => {
    const roundMs = 500
    const genesis = makeGenesis(roundMs)
    const a = await start({ genesis, produce: true })
    const b = await start({ genesis, peers: [a.address] })
    await until([a, b], () => b.store.height() >= 5, 30_000, 'height 5 on B')
    const late = await start({ genesis, peers: [a.address, b.address] })
    await until(
      [a, late],
      () => late.store.height() >= a.store.height(),
      30_000,
      'joiner caught up',
    )
    // The round in which it caught up may have come by sync; count from the next one on.
    const from = await nextRound(late)
    const confirmed = { a: new Map<number, string>(), late: new Set<number>() }
    a.gossip.on('confirmed', (block, round) => confirmed.a.set(round, block.block_header.hash))
    late.gossip.on('confirmed', (_b, round) => confirmed.late.add(round))
    // When each block first reached the joiner's gossip, whatever gossip then did with it.
    const arrived = new Map<string, number>()
    const arrival = (hash: string) => arrived.has(hash) || arrived.set(hash, Date.now())
    late.gossip
      .on('candidate', (block) => arrival(block.block_header.hash))
      .on('held', (block) => arrival(block.block_header.hash))
      .on('dropped', (block) => arrival(block.block_header.hash))
      .on('ignored', (hash) => arrival(hash))
    const totals: number[] = []
    const sample = () => {
      const metric = late.metrics.confirmed as unknown as {
        hashMap: Record<string, { value: number }>
      }
      totals.push(Object.values(metric.hashMap)[0]?.value ?? 0)
    }
    late.gossip.on('confirmed', sample).on('empty', sample)
    await rounds(late, 8)
    // Every round A confirmed (its own candidate), the joiner confirmed the same round by gossip.
    const window = (round: number) => round >= from && round < from + 8
    const missed = [...confirmed.a.keys()].filter(
      (round) => window(round) && !confirmed.late.has(round),
    )
    console.log(
      `late joiner: confirmed ${confirmed.late.size} of 8 rounds (producer: ${confirmed.a.size}); blocks_confirmed_total ${totals.join(' ')}`,
    )
    // The bug this guards against missed every round for good (one block behind, confirmed_total
    // frozen). A round's block that reached the joiner within its round must be confirmed in it;
    // one that reached it only after the round had ended (two busy loops beside the suite did that
    // once in three runs) is confirmed by sync instead. That is the machine, once; not twice.
    const clock = late.store.params
    const inTime = missed.filter(
      (round) =>
        (arrived.get(confirmed.a.get(round)!) ?? Number.POSITIVE_INFINITY) < roundEnd(round, clock),
    )
    expect(inTime, 'rounds whose block reached the joiner in time but was not confirmed').toEqual(
      [],
    )
    expect(
      missed.length,
      `rounds whose block reached the joiner late: ${missed.join(', ')}`,
    ).toBeLessThanOrEqual(1)
    expect(confirmed.late.size).toBeGreaterThanOrEqual(7)
    expect(totals.at(-1)! - totals[0]!).toBeGreaterThanOrEqual(6)
  }, 60_000)

  it('two producers sampled mid-round agree on the head; blocks arriving during the append are held, not dropped', async () => {
    const roundMs = 300
    const genesis = makeGenesis(roundMs)
    const a = await start({ genesis, produce: true })
    const b = await start({ genesis, produce: true, peers: [a.address] })
    await until([a, b], () => b.store.height() >= 3 && oneHead([a, b]), 30_000, 'start')
    // A slow disk, made deterministic: A's append of a round's pick finishes only once B's block
    // of the next round has reached A's gossip (or after 30 ms: B may sit a round out), so it lands mid-append.
    const append = a.store.append.bind(a.store)
    a.store.append = async (block: Block) => {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          a.gossip.off('held', done).off('dropped', done)
          resolve()
        }
        const timer = setTimeout(done, 30)
        a.gossip.on('held', done).on('dropped', done)
      })
      return append(block)
    }
    const drops: string[] = []
    for (const node of [a, b])
      node.gossip.on('dropped', (_block, info) => {
        if (info.reason === 'ORPHAN' || info.reason === 'NOT_ON_HEAD') drops.push(info.reason)
      })
    let heldWhileConfirming = 0
    a.gossip.on('held', (_block, info) => {
      if (info.reason === 'CONFIRMING') heldWhileConfirming++
    })
    let agreed = 0
    for (let i = 0; i < 20; i++) {
      const round = await nextRound(a)
      // Mid-round: both have confirmed the last round's pick and hold this round's candidates.
      await new Promise<void>((resolve) => {
        const wait = () =>
          Date.now() >= roundStart(round, a.store.params) + roundMs / 2
            ? resolve()
            : setTimeout(wait, 5)
        wait()
      })
      if (oneHead([a, b])) agreed++
    }
    console.log(
      `mid-round samples: heads agreed in ${agreed} of 20, ${drops.length} ORPHAN/NOT_ON_HEAD drops, ${heldWhileConfirming} held during the append`,
    )
    // Measured: the engine that advanced the round before awaiting the append agreed in 2 of 20
    // samples with 38 drops; holding arrivals during the append gives 19-20 of 20 with 0-1 drops.
    // A residual fork (one node sitting a round out while sync fetches) can still cost a few
    // samples in a row under load: the bound separates the two engines by a wide margin.
    expect(drops.length).toBeLessThanOrEqual(5)
    expect(heldWhileConfirming).toBeGreaterThanOrEqual(10)
    expect(agreed).toBeGreaterThanOrEqual(15)
  }, 60_000)
})
