import { createGenesis } from '@chronos/codec'
import { type CloseInfo, type Connection, type Transport, tcpTransport } from '@chronos/transport'
import { describe, expect, it } from 'vitest'
import { type AnnounceAnswer, PEER_CLOSE_REASONS, type Peer } from '../src/index.js'
import {
  block1,
  genesis,
  nextEvent,
  rawClient,
  readyPeer,
  receive,
  startManager,
  status,
} from './helpers.js'

const otherGenesis = createGenesis({
  network: 'other',
  roundMs: 1000,
  timestamp: 1_700_000_000_000,
})

/**
 * A real TCP transport that hands the test each connection the manager accepts, so a test
 * can await the close reason the manager itself chose (the remote side sees only 'remote').
 */
function acceptingTransport(): { transport: Transport; accepted: () => Promise<Connection> } {
  const inner = tcpTransport()
  const queue: Connection[] = []
  const waiters: ((c: Connection) => void)[] = []
  const transport: Transport = {
    name: inner.name,
    dial: (address, options) => inner.dial(address, options),
    listen: (address, onConnection) =>
      inner.listen(address, (connection) => {
        const waiter = waiters.shift()
        if (waiter) waiter(connection)
        else queue.push(connection)
        onConnection(connection)
      }),
  }
  const accepted = () => {
    const next = queue.shift()
    return next ? Promise.resolve(next) : new Promise<Connection>((r) => waiters.push(r))
  }
  return { transport, accepted }
}

/** The reason and initiator of a close, without the error (which is not part of the verdict). */
const verdict = (info: CloseInfo) => ({ reason: info.reason, initiator: info.initiator })

describe('PeerManager', () => {
  it('connects two nodes both ways, dialing back the advertised address, with one shared known set', async () => {
    const a = await startManager()
    const b = await startManager({ peers: [a.address] })
    const aSeesB = await readyPeer(a, b.address)
    const bSeesA = await readyPeer(b, a.address)
    expect(aSeesB.inbound.size).toBe(1)
    expect(bSeesA.inbound.size).toBe(1)
    expect(aSeesB.status?.address).toBe(b.address)
    aSeesB.known.add('x'.repeat(64))
    expect(a.get(b.address)?.known.has('x'.repeat(64))).toBe(true)
  })

  it('pipelines requests and gets the answers in request order, even when a later one is ready first', async () => {
    let releaseFirst!: (answer: AnnounceAnswer) => void
    let asked!: () => void
    const secondAsked = new Promise<void>((resolve) => (asked = resolve))
    const a = await startManager({
      handlers: {
        newBlockHash: (hash) => {
          // The second announcement is answered at once, while the first still waits.
          if (hash !== block1.block_header.hash) {
            asked()
            return 'known'
          }
          return new Promise<AnnounceAnswer>((resolve) => (releaseFirst = resolve))
        },
      },
    })
    const b = await startManager({ peers: [a.address] })
    const peer = await readyPeer(b, a.address)
    const order: string[] = []
    const slow = peer.outbound!.announce(block1.block_header.hash).then((r) => order.push(`1:${r}`))
    const fast = peer
      .outbound!.announce(genesis.block_header.hash)
      .then((r) => order.push(`2:${r}`))
    const pulled = peer.outbound!.pull(1).then((blk) => order.push(`3:${blk?.block_header.height}`))
    await secondAsked
    expect(order).toEqual([])
    releaseFirst('wanted')
    await Promise.all([slow, fast, pulled])
    expect(order).toEqual(['1:wanted', '2:known', '3:1'])
    expect(await peer.outbound!.pull(7)).toBeNull()
  })

  it('closes a Client whose first message is not SHAKEHAND, and keeps serving others', async () => {
    const a = await startManager()
    const hostile = await rawClient(a)
    hostile.send({ code: 'PULL_BLOCK', data: 0 })
    expect(await hostile.closed).toMatchObject({ initiator: 'remote' })
    const b = await startManager({ peers: [a.address] })
    const peer = await readyPeer(b, a.address)
    expect((await peer.outbound!.pull(0))?.block_header.hash).toBe(genesis.block_header.hash)
  })

  it('closes a Client that sends a Server-only code (WRONG_ROLE)', async () => {
    const a = await startManager()
    const hostile = await rawClient(a)
    hostile.send({ code: 'SHAKEHAND', data: status() })
    expect((await receive(hostile)).code).toBe('SHAKEHAND')
    const closed = nextEvent<[Peer, { reason: string }]>(a, 'disconnect')
    hostile.send({ code: 'BLOCK_KNOWN', data: genesis.block_header.hash })
    const [, info] = await closed
    expect(info.reason).toBe(PEER_CLOSE_REASONS.WRONG_ROLE)
  })

  it('closes a Client on another network (GENESIS_MISMATCH) and never dials it back', async () => {
    const { transport, accepted } = acceptingTransport()
    const a = await startManager({ transport })
    const hostile = await rawClient(a)
    const inbound = await accepted()
    hostile.send({ code: 'SHAKEHAND', data: status('127.0.0.1:2', otherGenesis) })
    expect(verdict(await inbound.closed)).toEqual({
      reason: PEER_CLOSE_REASONS.GENESIS_MISMATCH,
      initiator: 'local',
    })
    expect(await hostile.closed).toMatchObject({ initiator: 'remote' })
    expect(a.peers()).toHaveLength(0)
  })

  it('a Client whose Server names another genesis closes with GENESIS_MISMATCH and logs it', async () => {
    const listener = await tcpTransport().listen('127.0.0.1:0', (server) => {
      server.on('message', (m) => {
        if (m.code === 'SHAKEHAND')
          server.send({ code: 'SHAKEHAND', data: status(listener.address, otherGenesis) })
      })
      void server.closed.then((info) => serverClosed(info.initiator))
    })
    let serverClosed!: (initiator: string) => void
    const closedBy = new Promise<string>((resolve) => (serverClosed = resolve))
    const logged: Record<string, unknown>[] = []
    const capture = (fields: object) => void logged.push(fields as Record<string, unknown>)
    const b = await startManager({
      peers: [listener.address],
      logger: { debug() {}, info: capture, warn: capture, error: capture },
    })
    expect(await closedBy).toBe('remote')
    expect(b.readyPeers()).toHaveLength(0)
    expect(logged).toContainEqual(
      expect.objectContaining({ peer: listener.address, reason: 'GENESIS_MISMATCH' }),
    )
    await listener.close()
  })

  it('bans an address after repeated protocol errors and refuses it while banned', async () => {
    const { transport, accepted } = acceptingTransport()
    const a = await startManager({ transport, limits: { banThreshold: 2, banMs: 60_000 } })
    const penalties: [string, string, boolean][] = []
    a.on('penalty', (...args) => penalties.push(args))
    for (let i = 0; i < 2; i++) {
      const hostile = await rawClient(a)
      const inbound = await accepted()
      hostile.send({ code: 'SHAKEHAND', data: status('127.0.0.1:9') })
      await receive(hostile)
      hostile.send({ code: 'PUSH_BLOCK', data: null })
      expect(verdict(await inbound.closed)).toEqual({
        reason: PEER_CLOSE_REASONS.WRONG_ROLE,
        initiator: 'local',
      })
      await hostile.closed
    }
    expect(penalties).toEqual([
      ['127.0.0.1:9', PEER_CLOSE_REASONS.WRONG_ROLE, false],
      ['127.0.0.1:9', PEER_CLOSE_REASONS.WRONG_ROLE, true],
    ])
    expect(a.bannedFor('127.0.0.1:9')).toBeGreaterThan(0)
    const again = await rawClient(a)
    const inbound = await accepted()
    again.send({ code: 'SHAKEHAND', data: status('127.0.0.1:9') })
    // The handshake is answered before the address is known; the connection is closed right after.
    expect(verdict(await inbound.closed)).toEqual({
      reason: PEER_CLOSE_REASONS.BANNED,
      initiator: 'local',
    })
    expect((await again.closed).initiator).toBe('remote')
    expect(a.get('127.0.0.1:9')).toBeUndefined()
  })

  it('closes the connection when a Server answers out of order (UNEXPECTED_ANSWER)', async () => {
    // A fake Server: answers SHAKEHAND, then answers PULL_BLOCK with BLOCK_KNOWN.
    const listener = await tcpTransport().listen('127.0.0.1:0', (server) => {
      server.on('message', (m) => {
        if (m.code === 'SHAKEHAND')
          server.send({ code: 'SHAKEHAND', data: status(listenerAddress) })
        if (m.code === 'PULL_BLOCK')
          server.send({ code: 'BLOCK_KNOWN', data: genesis.block_header.hash })
      })
    })
    const listenerAddress = listener.address
    const b = await startManager({ peers: [listenerAddress] })
    const peer = await readyPeer(b, listenerAddress)
    const closed = nextEvent<[Peer, { reason: string }]>(b, 'disconnect')
    await expect(peer.outbound!.pull(0)).rejects.toMatchObject({ code: 'PEER_GONE' })
    expect((await closed)[1].reason).toBe(PEER_CLOSE_REASONS.UNEXPECTED_ANSWER)
    await listener.close()
  })

  it('a Server that never answers the opening SHAKEHAND is closed for HANDSHAKE_TIMEOUT, not REQUEST_TIMEOUT', async () => {
    const listener = await tcpTransport().listen('127.0.0.1:0', (server) => {
      void server.closed.then((info) => serverClosed(info.initiator))
    })
    let serverClosed!: (initiator: string) => void
    const closedBy = new Promise<string>((resolve) => (serverClosed = resolve))
    const logged: Record<string, unknown>[] = []
    const capture = (fields: object) => void logged.push(fields as Record<string, unknown>)
    // The request deadline is the shorter one: the handshake's own must still decide.
    await startManager({
      peers: [listener.address],
      limits: { handshakeTimeoutMs: 300, requestTimeoutMs: 100 },
      logger: { debug() {}, info: capture, warn: capture, error: capture },
    })
    expect(await closedBy).toBe('remote')
    expect(logged).toContainEqual(
      expect.objectContaining({ peer: listener.address, reason: 'HANDSHAKE_TIMEOUT' }),
    )
    await listener.close()
  })

  it('redials a configured peer that went away, once it is back', async () => {
    const a = await startManager()
    const address = a.address
    const b = await startManager({ peers: [address] })
    await readyPeer(b, address)
    await a.stop()
    while (b.get(address)) await nextEvent(b, 'disconnect')
    const revived = await startManager({ listen: address })
    await readyPeer(b, address)
    expect(revived.get(b.address)).toBeDefined()
  })

  it('refuses inbound peers over the cap with PEER_LIMIT', async () => {
    const { transport, accepted } = acceptingTransport()
    const a = await startManager({ transport, limits: { maxInbound: 1 } })
    const first = await rawClient(a)
    await accepted()
    first.send({ code: 'SHAKEHAND', data: status('127.0.0.1:3') })
    await receive(first)
    const second = await rawClient(a)
    const inbound = await accepted()
    second.send({ code: 'SHAKEHAND', data: status('127.0.0.1:4') })
    expect(verdict(await inbound.closed)).toEqual({
      reason: PEER_CLOSE_REASONS.PEER_LIMIT,
      initiator: 'local',
    })
    expect(await second.closed).toMatchObject({ initiator: 'remote' })
    expect(first.status).toBe('open')
    expect(a.get('127.0.0.1:4')).toBeUndefined()
  })

  it('makes room for a new connection by closing the oldest one still silent', async () => {
    const a = await startManager({ limits: { maxUnidentified: 3 } })
    const silent: Connection[] = []
    for (let i = 0; i < 3; i++) silent.push(await rawClient(a))
    const honest = await rawClient(a)
    expect(await silent[0]!.closed).toMatchObject({ initiator: 'remote' })
    honest.send({ code: 'SHAKEHAND', data: status('127.0.0.1:5') })
    expect((await receive(honest)).code).toBe('SHAKEHAND')
    expect(silent[1]!.status).toBe('open')
  })
})
