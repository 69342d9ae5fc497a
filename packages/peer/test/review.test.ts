// Review findings (stream "review"): each test shows one way a hostile peer
// bends a node, over real TCP on loopback. They fail on the code reviewed.
import type { Message } from '@chronos/codec'
import { type Connection, tcpTransport } from '@chronos/transport'
import { describe, expect, it } from 'vitest'
import { AddressBook, PEER_CLOSE_REASONS as R } from '../src/index.js'
import {
  block1,
  closeWhere,
  nextEvent,
  readyPeer,
  receive,
  startManager,
  status,
} from './helpers.js'

/** A raw 1.0 Server: answers every SHAKEHAND with a plain Status (no features), records every code. */
async function legacyServer() {
  const received: string[] = []
  const listener = await tcpTransport().listen('127.0.0.1:0', (server) => {
    server.on('message', (m: Message) => {
      received.push(m.code)
      if (m.code === 'SHAKEHAND') server.send({ code: 'SHAKEHAND', data: status(listener.address) })
    })
  })
  return { listener, received }
}

/** Opens a raw Client claiming `address` in its Status; resolves once the node answered. */
async function claim(manager: { address: string }, address: string, extra = {}) {
  const connection: Connection = await tcpTransport().dial(manager.address)
  connection.send({ code: 'SHAKEHAND', data: { ...status(address), ...extra } })
  await receive(connection)
  return connection
}

describe("review: a hostile peer that claims another node's Status address", () => {
  it('cannot make us send GET_PEERS to a 1.0 Server by listing `peers` on its inbound Status (section 13)', async () => {
    const legacy = await legacyServer()
    const a = await startManager({
      addressBook: new AddressBook(),
      limits: { peerExchangeIntervalMs: 100, statusIntervalMs: 50 },
    })
    // The attacker dials us naming the 1.0 node's address and the feature `peers`;
    // we dial that address back, and both connections land on one peer.
    const attacker = await claim(a, legacy.listener.address, { features: ['peers'] })
    const peer = await readyPeer(a, legacy.listener.address)
    // Each time the real Server's Status lands, the attacker's beat overwrites it.
    a.on('status', (p, s) => {
      if (p === peer && s.features === undefined && attacker.status === 'open')
        attacker.send({
          code: 'SHAKEHAND',
          data: { ...status(legacy.listener.address), features: ['peers'] },
        })
    })
    const outbound = peer.outbound!
    await Promise.race([
      (async () => {
        for (let beats = 0; beats < 10; beats++) await nextEvent(outbound, 'status')
      })(),
      // Our raw 1.0 Server does not answer GET_PEERS: its next Status then mismatches and we close it.
      nextEvent(outbound, 'close'),
    ])
    // The 1.0 Server's own Status never offered `peers`: a real 1.0 node would close and penalise us.
    expect(legacy.received).not.toContain('GET_PEERS')
    attacker.close()
    await legacy.listener.close()
  })

  it('cannot fill the address book with verified entries by claiming addresses we dial back (section 13)', async () => {
    const maxPerSource = 2
    const book = new AddressBook({ maxEntries: 6, maxPerSource })
    const a = await startManager({ addressBook: book })
    // Listeners the attacker runs: each answers the handshake as a 1.0 node would.
    const sybils = await Promise.all([1, 2, 3, 4, 5, 6].map(() => legacyServer()))
    for (const sybil of sybils) {
      const address = sybil.listener.address
      const connection = await claim(a, address)
      // Our dial-back reaches the listener: its handshake makes the entry "verified".
      await readyPeer(a, address)
      connection.close()
    }
    // Six addresses, all claimed by one host over inbound connections we never asked for,
    // now fill the book as facts; an honest PEERS answer finds no room (learn breaks on a full book).
    expect(sybils.filter((s) => book.get(s.listener.address)?.verified).length).toBeLessThanOrEqual(
      maxPerSource,
    )
    expect(book.learn([{ address: '127.0.0.2:7001' }], 'honest-source', () => true)).toBe(1)
    await Promise.all(sybils.map((s) => s.listener.close()))
  })

  it('cannot get an honest unproven peer banned, nor its outbound connection closed, by erring under its address (section 10)', async () => {
    const honest = await startManager()
    const a = await startManager({ peers: [honest.address] })
    const peer = await readyPeer(a, honest.address)
    const outbound = peer.outbound!
    for (let strike = 0; strike < a.limits.banThreshold; strike++) {
      const attacker = await claim(a, honest.address)
      const penalised = nextEvent(a, 'penalty')
      // A Server-only code from a Client: WRONG_ROLE, penalised against the claimed address.
      attacker.send({ code: 'BLOCK_KNOWN', data: '0'.repeat(64) })
      const [id, reason] = await penalised
      expect([id, reason]).toEqual([honest.address, R.WRONG_ROLE])
    }
    expect(a.bannedFor(honest.address)).toBe(0)
    expect(outbound.open).toBe(true)
  })

  it("cannot close an honest unproven peer's inbound connection as DUPLICATE_CONNECTION by claiming its address", async () => {
    const a = await startManager()
    const honest = await startManager({ peers: [a.address] })
    await readyPeer(honest, a.address)
    // The honest node's connection to us is now an inbound session of peer `honest.address`.
    const honestInbound = () => a.get(honest.address)?.inbound.size ?? 0
    while (honestInbound() === 0) await nextEvent(a, 'status')
    const kicked = closeWhere(a, (_, info) => info.reason === R.DUPLICATE_CONNECTION)
    const attacker = await claim(a, honest.address)
    const [, info] = await Promise.race([
      kicked,
      // The attacker's own Status beats: enough round trips for a close to have landed.
      (async () => {
        for (let i = 0; i < 5; i++) {
          attacker.send({ code: 'SHAKEHAND', data: status(honest.address) })
          await receive(attacker)
        }
        return [undefined, { reason: 'none' }] as const
      })(),
    ])
    expect(info.reason).not.toBe(R.DUPLICATE_CONNECTION)
    attacker.close()
  })

  it('forgets when it last asked a peer GET_PEERS once the peer is gone (the `asked` table is keyed by peer ids)', async () => {
    const a = await startManager({
      addressBook: new AddressBook(),
      limits: { statusIntervalMs: 50, peerExchangeIntervalMs: 60_000 },
    })
    for (let cycle = 0; cycle < 5; cycle++) {
      // A listener of the attacker's: offers `peers`, answers one GET_PEERS, then hangs up on us.
      let asked!: () => void
      const wasAsked = new Promise<void>((resolve) => (asked = resolve))
      const listener = await tcpTransport().listen('127.0.0.1:0', (server) => {
        server.on('message', (m: Message) => {
          if (m.code === 'SHAKEHAND')
            server.send({
              code: 'SHAKEHAND',
              data: { ...status(listener.address), features: ['peers'] },
            })
          if (m.code === 'GET_PEERS') {
            server.send({ code: 'PEERS', data: [] })
            server.close()
            asked()
          }
        })
      })
      const address = listener.address
      const inbound = await claim(a, address)
      await wasAsked
      // Our outbound closed first; the peer lives on through its inbound connection, then that goes too.
      while (a.get(address)?.outbound) await nextEvent(a, 'disconnect')
      inbound.close()
      while (a.get(address)) await nextEvent(a, 'disconnect')
      await listener.close()
    }
    expect(a.peers()).toEqual([])
    // Private, read for the review only: one entry per peer that ever came and went.
    expect((Reflect.get(a, 'asked') as Map<string, number>).size).toBe(0)
  })

  it('keeps an outbound slot for an honest newcomer when one host claimed every slot by dialing us (section 11: cap per IP)', async () => {
    const a = await startManager({ limits: { maxOutbound: 3 } })
    // Three listeners on one other host (127.0.0.2), each claimed by an inbound connection:
    // we dial every one back, and the three take every outbound slot.
    const sybils: Awaited<ReturnType<typeof legacyServerOn>>[] = []
    const claims: Connection[] = []
    for (let i = 0; i < 3; i++) {
      const sybil = await legacyServerOn('127.0.0.2:0')
      sybils.push(sybil)
      claims.push(await claim(a, sybil.listener.address))
      await readyPeer(a, sybil.listener.address)
    }
    // An honest newcomer dials us; we try to dial it back on each of its Status beats.
    const newcomer = await startManager({ peers: [a.address] })
    await readyPeer(newcomer, a.address)
    const seen = () => a.get(newcomer.address)
    let beats = 0
    let events = 0
    while (!seen()?.ready && beats < 20 && events++ < 1000) {
      await nextEvent(a, 'status')
      if (a.get(newcomer.address)?.status) beats++
    }
    expect(seen()?.inbound.size).toBe(1)
    expect(seen()?.ready).toBe(true)
    for (const c of claims) c.close()
    await Promise.all(sybils.map((s) => s.listener.close()))
  })

  it('one newcomer costs at most one eviction: an evicted peer does not redial and evict the next (no churn)', async () => {
    const a = await startManager({ limits: { maxOutbound: 2, evictionGraceMs: 300 } })
    const others = [
      await startManager({ peers: [a.address] }),
      await startManager({ peers: [a.address] }),
      await startManager({ peers: [a.address] }),
    ]
    await readyPeer(a, others[0]!.address)
    await readyPeer(a, others[1]!.address)
    let evictions = 0
    a.on('disconnect', (_, info) => {
      if (info.reason === R.EVICTED) evictions++
    })
    // About 4 s of Status beats from three peers (every 200 ms each): many eviction graces.
    for (let events = 0; events < 60; events++) await nextEvent(a, 'status')
    expect(evictions).toBeLessThanOrEqual(1)
  })

  it('does not blame the peer (PROTOCOL_ERROR, a strike) when our own handler throws on a valid block', async () => {
    const a = await startManager({
      handlers: {
        newBlock: () => {
          throw new Error('our store failed')
        },
      },
    })
    const penalties: string[] = []
    a.on('penalty', (id, reason) => penalties.push(`${id} ${reason}`))
    const client = await claim(a, '127.0.0.1:1')
    const closed = closeWhere(a)
    client.send({ code: 'NEW_BLOCK', data: block1 })
    const [, info] = await closed
    expect({ reason: info.reason, penalties }).toEqual({ reason: R.INTERNAL_ERROR, penalties: [] })
  })
})

/** legacyServer on a chosen address. */
async function legacyServerOn(address: string) {
  const received: string[] = []
  const listener = await tcpTransport().listen(address, (server) => {
    server.on('message', (m: Message) => {
      received.push(m.code)
      if (m.code === 'SHAKEHAND') server.send({ code: 'SHAKEHAND', data: status(listener.address) })
    })
  })
  return { listener, received }
}
