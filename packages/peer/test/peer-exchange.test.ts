// Section 13 over real TCP: GET_PEERS/PEERS, the bounded address book, and
// dialing from it; never a new code to a peer that did not offer it.
import { generateNodeKey, type Message, type PeerEntry } from '@chronos/codec'
import { type Connection, tcpTransport } from '@chronos/transport'
import { describe, expect, it } from 'vitest'
import { AddressBook, type AddressBookStorage, PEER_CLOSE_REASONS as R } from '../src/index.js'
import {
  closeWhere,
  nextEvent,
  rawClient,
  readyPeer,
  receive,
  startManager,
  status,
} from './helpers.js'

const fast = { peerExchangeIntervalMs: 100, statusIntervalMs: 50 }

/** A raw Server: answers SHAKEHAND with `extra` Status members, records every code it receives. */
async function rawServer(
  extra: Record<string, unknown> = {},
  onMessage?: (m: Message, c: Connection) => void,
) {
  const received: string[] = []
  const listener = await tcpTransport().listen('127.0.0.1:0', (server) => {
    server.on('message', (m) => {
      received.push(m.code)
      if (m.code === 'SHAKEHAND')
        server.send({ code: 'SHAKEHAND', data: { ...status(listener.address), ...extra } })
      onMessage?.(m, server)
    })
  })
  return { listener, received }
}

describe('peer exchange', () => {
  it('answers GET_PEERS with peers it reached outbound, keys where proven, never the asker', async () => {
    const keyB = generateNodeKey()
    const a = await startManager({ addressBook: new AddressBook(), identity: generateNodeKey() })
    const b = await startManager({ peers: [a.address], identity: keyB })
    const c = await startManager({ peers: [a.address] })
    await readyPeer(a, keyB.publicKey)
    await readyPeer(a, c.address)
    const asker = await rawClient(a)
    asker.send({ code: 'SHAKEHAND', data: status(c.address) })
    const hello = (await receive(asker)) as Extract<Message, { code: 'SHAKEHAND' }>
    expect(hello.data.features).toContain('peers')
    asker.send({ code: 'GET_PEERS', data: null })
    const answer = (await receive(asker)) as Extract<Message, { code: 'PEERS' }>
    // The asker claims c's address: c is left out; b is listed with its proven key.
    expect(answer.data).toEqual([{ address: b.address, key: keyB.publicKey }])
    // Asking again within the interval gets an empty answer.
    asker.send({ code: 'GET_PEERS', data: null })
    expect(((await receive(asker)) as { data: PeerEntry[] }).data).toEqual([])
  })

  it('never sends GET_PEERS to a Server that did not offer `peers` (a 1.0 node)', async () => {
    const legacy = await rawServer()
    const a = await startManager({
      addressBook: new AddressBook(),
      peers: [legacy.listener.address],
      limits: fast,
    })
    const peer = await readyPeer(a, legacy.listener.address)
    for (let beats = 0; beats < 5; beats++) await nextEvent(peer.outbound!, 'status')
    expect(legacy.received).not.toContain('GET_PEERS')
    expect(legacy.received.filter((c) => c === 'SHAKEHAND').length).toBeGreaterThanOrEqual(5)
    await legacy.listener.close()
  })

  it('an unsolicited PEERS is UNEXPECTED_ANSWER', async () => {
    let shakehands = 0
    const hostile = await rawServer({ features: ['peers'] }, (m, server) => {
      // After the handshake, with the peer attached: a PEERS nobody asked for.
      if (m.code === 'SHAKEHAND' && ++shakehands === 2)
        server.send({ code: 'PEERS', data: [{ address: '127.0.0.1:9' }] })
    })
    const a = await startManager({ peers: [hostile.listener.address], limits: fast })
    const [, info] = await closeWhere(a, (_, i) => i.reason === R.UNEXPECTED_ANSWER)
    expect(info.initiator).toBe('local')
    await hostile.listener.close()
  })

  it('a source that answers 64 addresses fills at most 16 entries of the book', async () => {
    const flood = Array.from({ length: 64 }, (_, i) => ({ address: `127.0.9.${i}:7000` }))
    const hostile = await rawServer({ features: ['peers'] }, (m, server) => {
      if (m.code === 'GET_PEERS') server.send({ code: 'PEERS', data: flood })
    })
    const book = new AddressBook({}, undefined)
    const a = await startManager({
      addressBook: book,
      peers: [hostile.listener.address],
      limits: { ...fast, targetOutbound: 0 },
    })
    await expect.poll(() => hostile.received.includes('GET_PEERS')).toBe(true)
    await expect.poll(() => book.size).toBe(16)
    expect(a.addressBookSize).toBe(16)
    await hostile.listener.close()
  })

  it('learns an address from a peer and dials it to reach targetOutbound', async () => {
    const c = await startManager({ addressBook: new AddressBook() })
    const b = await startManager({ addressBook: new AddressBook(), peers: [c.address] })
    await readyPeer(b, c.address)
    const a = await startManager({
      addressBook: new AddressBook(),
      peers: [b.address],
      limits: fast,
    })
    // a was told only of b; b tells it of c, and a dials c from its book.
    await readyPeer(a, c.address)
    expect(a.get(c.address)?.outbound).toBeDefined()
  })
})

describe('AddressBook', () => {
  const usable = () => true

  it('100,000 addresses from 100,000 sources: the book stays at its bound', () => {
    const book = new AddressBook()
    for (let i = 0; i < 100_000; i++)
      book.learn(
        [{ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:7000` }],
        `src-${i}`,
        usable,
      )
    expect(book.size).toBe(book.limits.maxEntries)
    // Per-source counts live only as long as that source's entries.
    expect((book as unknown as { perSource: Map<string, number> }).perSource.size).toBe(
      book.limits.maxEntries,
    )
  })

  it('keeps verified entries over claims, forgets entries that keep failing, and persists', async () => {
    const saved = new Map<string, string>()
    const storage: AddressBookStorage = {
      entries: () => saved.entries(),
      put: async (k, v) => void saved.set(k, v),
      del: async (k) => void saved.delete(k),
    }
    const book = new AddressBook({ maxEntries: 3, maxFailures: 2 }, storage)
    book.verified('10.0.0.1:1', undefined)
    book.learn([{ address: '10.0.0.2:1' }, { address: '10.0.0.3:1' }], 'src', usable)
    // Full: a new claim evicts a claim, never the verified entry.
    book.learn([{ address: '10.0.0.4:1' }], 'other', usable)
    expect(book.size).toBe(3)
    expect(book.has('10.0.0.1:1')).toBe(true)
    book.failed('10.0.0.4:1')
    book.failed('10.0.0.4:1')
    expect(book.has('10.0.0.4:1')).toBe(false)
    const restored = new AddressBook({ maxEntries: 3 }, storage)
    await restored.load()
    expect(restored.size).toBe(book.size)
    expect(restored.get('10.0.0.1:1')?.verified).toBe(true)
  })
})
