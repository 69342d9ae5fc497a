// Section 12 end to end over real TCP: a permissioned network of nodes with
// identities converges and shares the rounds among its producers; blocks by
// an unlisted key are refused by gossip and by sync, and the store is unchanged.
import {
  type Block,
  createBlock,
  createGenesis,
  generateNodeKey,
  type NodeKey,
  readNetworkParams,
  sealBlock,
} from '@chronos/codec'
import { buildChain } from '@chronos/codec/testing'
import { PEER_CLOSE_REASONS } from '@chronos/peer'
import { type Connection, tcpTransport } from '@chronos/transport'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { ChronosNode, NotAuthorizedProducerError, resolveConfig } from '../src/index.js'
import { silent, until } from './network.js'

const ROUND_MS = 400
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
    const target = first.store.height() + 12
    await until(
      all,
      () =>
        all.every((n) => n.store.height() >= target) &&
        new Set(all.map((n) => n.store.head().block_header.hash)).size === 1,
      60_000,
      `all 5 nodes on one chain at height ${target}`,
    )
    const producers = new Map<string, number>()
    let inTurn = 0
    let total = 0
    for await (const block of first.store.blocks(1)) {
      total++
      producers.set(
        block.block_header.producer,
        (producers.get(block.block_header.producer) ?? 0) + 1,
      )
      expect(typeof block.seal).toBe('string')
      if (
        first.status().producers[
          Math.floor((block.block_header.timestamp - genesis.block_header.timestamp) / ROUND_MS) % 3
        ] === block.block_header.producer
      )
        inTurn++
    }
    expect([...producers.keys()].sort()).toEqual(keys.map((k) => k.publicKey).sort())
    // Each producer gets about a third; in-turn blocks win whenever their producer was on time.
    for (const count of producers.values())
      expect(count).toBeGreaterThanOrEqual(Math.floor(total / 6))
    expect(inTurn / total).toBeGreaterThan(0.5)
    const view = first.status()
    expect(view.permissioned).toBe(true)
    expect(view.key).toBe(keys[0]!.publicKey)
    expect(view.peers.filter((p) => p.proven).length).toBeGreaterThanOrEqual(3)
    expect(view.peers.some((p) => !p.proven)).toBe(true)
  })

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
