// Section 12 end to end over real TCP: a permissioned network of nodes with
// identities converges and shares the rounds among its producers; blocks by
// an unlisted key are refused by gossip and by sync, and the store is unchanged.
import {
  type Block,
  compareBlocks,
  createBlock,
  createGenesis,
  generateNodeKey,
  isInTurn,
  type NodeKey,
  readNetworkParams,
  roundOf,
  sealBlock,
} from '@chronos/codec'
import { buildChain } from '@chronos/codec/testing'
import { PEER_CLOSE_REASONS } from '@chronos/peer'
import { type Connection, tcpTransport } from '@chronos/transport'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { ChronosNode, NotAuthorizedProducerError, resolveConfig } from '../src/index.js'
import { heads, oneHead, silent, until } from './network.js'

const ROUND_MS = 400
const short = (key: string) => key.slice(0, 8)

/**
 * Watches one node's gossip: the valid candidates it had for each round on each parent
 * ('candidate' events), and whether each round it confirmed ('confirmed') was the best of
 * them by the codec's priority rule. `contested` counts confirmations where an in-turn block
 * beat an out-of-turn candidate with the smaller hash: the in-turn rule, not the hash, decided.
 */
function judgeConfirmations(node: ChronosNode) {
  const rules = node.store.params
  const seen = new Map<string, Block[]>()
  const keyOf = (round: number, parent: string) => `${round}|${parent}`
  const result = { violations: [] as string[], contested: 0 }
  node.gossip.on('candidate', (block) => {
    const key = keyOf(roundOf(block.block_header.timestamp, rules), block.block_header.prev_hash)
    seen.set(key, [...(seen.get(key) ?? []), block])
  })
  node.gossip.on('confirmed', (block, round) => {
    const had = seen.get(keyOf(round, block.block_header.prev_hash)) ?? []
    const best = had.reduce<Block | undefined>(
      (a, b) => (a && compareBlocks(a.block_header, b.block_header, rules) <= 0 ? a : b),
      undefined,
    )
    if (best?.block_header.hash !== block.block_header.hash)
      result.violations.push(
        `${node.address} confirmed ${short(block.block_header.hash)} by ${short(block.block_header.producer)} ` +
          `in round ${round} over ${best ? `${short(best.block_header.hash)} by ${short(best.block_header.producer)}` : 'no candidate it had'}`,
      )
    else if (
      isInTurn(block.block_header, rules) &&
      had.some(
        (c) => !isInTurn(c.block_header, rules) && c.block_header.hash < block.block_header.hash,
      )
    )
      result.contested++
    for (const key of seen.keys()) if (Number(key.split('|')[0]) < round) seen.delete(key)
  })
  return result
}
const nodes: ChronosNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
})

async function start(
  genesis: Block,
  options: { identity?: NodeKey; produce?: boolean; peers?: string[]; identityOff?: boolean } = {},
) {
  const config = resolveConfig(
    {},
    {
      data: '(memory)',
      genesis: '(in memory)',
      listen: '127.0.0.1:0',
      peers: options.peers ?? [],
      produce: options.produce ?? false,
      txRate: 5,
      identity: options.identityOff ? false : undefined,
      limits: { statusIntervalMs: 100, fetchTimeoutMs: 200, reconnectMaxMs: 400 },
    },
  )
  const node = await ChronosNode.open({
    config,
    genesis,
    logger: silent,
    transport: tcpTransport(),
    db: new MemoryLevel({ valueEncoding: 'utf8' }),
    identity: options.identity,
  })
  await node.start()
  nodes.push(node)
  return node
}

function permissionedGenesis(producers: NodeKey[]): Block {
  return createGenesis({
    network: 'poa-test',
    roundMs: ROUND_MS,
    timestamp: Date.now() - ROUND_MS,
    producers: producers.map((k) => k.publicKey),
  })
}

describe('a permissioned network', () => {
  it('5 nodes with identities, 3 listed producers: one chain, every producer confirms rounds, in-turn blocks win', async () => {
    const keys = [generateNodeKey(), generateNodeKey(), generateNodeKey()]
    const listed = keys.map((k) => k.publicKey)
    const genesis = permissionedGenesis(keys)
    const first = await start(genesis, { identity: keys[0], produce: true })
    const rest = [
      await start(genesis, { identity: keys[1], produce: true, peers: [first.address] }),
      await start(genesis, { identity: keys[2], produce: true, peers: [first.address] }),
      await start(genesis, { peers: [first.address] }),
      // A node without identity (1.0-style) follows the permissioned chain too.
      await start(genesis, { peers: [first.address], identityOff: true }),
    ]
    const all = [first, ...rest]
    const judges = all.map(judgeConfirmations)
    const violations = () => judges.flatMap((j) => j.violations)
    // States, not a count of rounds: a starved machine only takes longer to reach them.
    const deadline = Date.now() + 150_000
    let target = first.store.height() + 6
    let inChain = new Set<string>()
    const state = () =>
      `chain producers ${[...inChain].map(short).join(',') || 'none read yet'} of ${listed.map(short).join(',')}; ` +
      `contested rounds decided ${judges.reduce((n, j) => n + j.contested, 0)}; ` +
      `heights ${all.map((n) => n.store.height()).join(',')} (target ${target}), heads ${heads(all).size}`
    for (;;) {
      await until(
        all,
        () =>
          violations().length > 0 ||
          (judges.some((j) => j.contested > 0) &&
            all.every((n) => n.store.height() >= target) &&
            oneHead(all)),
        Math.max(1, deadline - Date.now()),
        'all 5 nodes on one head at the target height and a round where an in-turn block beat a smaller-hash one',
      ).catch((error: Error) => {
        throw new Error(`${error.message}: ${state()}`)
      })
      // In-turn blocks win, exactly: every round any node confirmed by gossip was the
      // highest-priority candidate (codec's compareBlocks) that node had for that round on that
      // parent, so an out-of-turn block was confirmed only where no in-turn one arrived in time.
      expect(violations()).toEqual([])
      inChain = new Set<string>()
      for await (const block of first.store.blocks(1)) {
        inChain.add(block.block_header.producer)
        expect(typeof block.seal).toBe('string')
      }
      if (listed.every((key) => inChain.has(key))) break
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for a block of every listed producer: ${state()}`)
      target = first.store.height() + 1
    }
    expect(violations()).toEqual([])
    const view = first.status()
    expect(view.permissioned).toBe(true)
    expect(view.key).toBe(keys[0]!.publicKey)
    // Three peers proved a key (the two producers and the follower with an identity), one did not.
    await until(
      all,
      () => {
        const peers = first.status().peers
        return peers.filter((p) => p.proven).length >= 3 && peers.some((p) => !p.proven)
      },
      60_000,
      'the first node to list 3 proven peers and the 1.0-style one unproven',
    )
  }, 240_000)

  it('refuses to produce with a key the genesis does not list', async () => {
    const genesis = permissionedGenesis([generateNodeKey()])
    await expect(
      start(genesis, { identity: generateNodeKey(), produce: true }),
    ).rejects.toBeInstanceOf(NotAuthorizedProducerError)
  })

  it('an outsider`s well-hashed, self-sealed NEW_BLOCK is MALFORMED_BLOCK (UNLISTED_PRODUCER); the store is unchanged', async () => {
    const producer = generateNodeKey()
    const genesis = permissionedGenesis([producer])
    const node = await start(genesis)
    const outsider = generateNodeKey()
    const raw = await tcpTransport().dial(node.address)
    raw.send({
      code: 'SHAKEHAND',
      data: {
        timestamp: Date.now(),
        height: 0,
        address: '127.0.0.1:61',
        genesis: genesis.block_header.hash,
      },
    })
    await new Promise((resolve) => raw.once('message', resolve))
    const block = sealBlock(
      createBlock({
        height: 1,
        prevHash: genesis.block_header.hash,
        timestamp: Date.now(),
        producer: outsider.publicKey,
        transactions: [{ spam: 1 }],
      }),
      outsider,
      genesis.block_header.hash,
    )
    const closed = new Promise<string>((resolve) =>
      node.peers.on('disconnect', (_peer, info) => resolve(info.reason)),
    )
    raw.send({ code: 'NEW_BLOCK', data: block })
    expect(await closed).toBe(PEER_CLOSE_REASONS.MALFORMED_BLOCK)
    expect(node.store.height()).toBe(0)
  })

  it('a chain by an unlisted key that fills every round from genesis is refused by sync: no reorg', async () => {
    const producer = generateNodeKey()
    const genesis = createGenesis({
      network: 'poa-test',
      roundMs: ROUND_MS,
      timestamp: Date.now() - 40 * ROUND_MS,
      producers: [producer.publicKey],
    })
    const outsider = generateNodeKey()
    const forged = buildChain(genesis, 30, {
      network: readNetworkParams(genesis),
      keyFor: () => outsider,
    })
    // A hostile Server: claims the long chain and serves it.
    let serverAddress = ''
    const closes: string[] = []
    const listener = await tcpTransport().listen('127.0.0.1:0', (server: Connection) => {
      server.on('message', (m) => {
        if (m.code === 'SHAKEHAND')
          server.send({
            code: 'SHAKEHAND',
            data: {
              timestamp: Date.now(),
              height: 30,
              head: forged.at(-1)!.block_header.hash,
              address: serverAddress,
              genesis: genesis.block_header.hash,
            },
          })
        if (m.code === 'PULL_BLOCK')
          server.send({
            code: 'PUSH_BLOCK',
            data: m.data === 0 ? genesis : (forged[m.data - 1] ?? null),
          })
      })
      void server.closed.then((info) => closes.push(info.reason))
    })
    serverAddress = listener.address
    const node = await start(genesis, { peers: [serverAddress] })
    const reason = await new Promise<string>((resolve) =>
      node.peers.on('disconnect', (_peer, info) => resolve(info.reason)),
    )
    expect(reason).toBe(PEER_CLOSE_REASONS.MALFORMED_BLOCK)
    expect(node.store.height()).toBe(0)
    await listener.close()
  })
})
