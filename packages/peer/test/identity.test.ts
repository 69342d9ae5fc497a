// Section 11 over real TCP: the three-step handshake, 1.0 interop both ways,
// every way a proof can be wrong, pinned keys, and identity-keyed peers.
import {
  createNonce,
  generateNodeKey,
  handshakeTranscript,
  type Message,
  type Status,
} from '@chronos/codec'
import { type Connection, tcpTransport } from '@chronos/transport'
import { describe, expect, it } from 'vitest'
import { PEER_CLOSE_REASONS as R } from '../src/index.js'
import { genesis, rawClient, readyPeer, receive, startManager, status } from './helpers.js'

const G = genesis.block_header.hash

describe('identity handshake', () => {
  it('two nodes with keys prove them both ways and know each other by key', async () => {
    const keyA = generateNodeKey()
    const keyB = generateNodeKey()
    const a = await startManager({ identity: keyA })
    const b = await startManager({ identity: keyB, peers: [a.address] })
    const aSeesB = await readyPeer(a, keyB.publicKey)
    const bSeesA = await readyPeer(b, keyA.publicKey)
    expect(aSeesB).toMatchObject({ id: keyB.publicKey, key: keyB.publicKey, address: b.address })
    expect(bSeesA.proven).toBe(true)
    expect(bSeesA.outbound!.provenKey).toBe(keyA.publicKey)
    expect([...aSeesB.inbound][0]!.provenKey).toBe(keyB.publicKey)
    // Both directions share one known set: one Peer per key.
    expect(a.peers()).toHaveLength(1)
    expect(aSeesB.inbound.size).toBe(1)
    expect(aSeesB.outbound).toBeDefined()
  })

  it('a node with a key and a 1.0 node without one interoperate both ways, unauthenticated', async () => {
    const key = generateNodeKey()
    const modern = await startManager({ identity: key })
    const legacy = await startManager({ peers: [modern.address] })
    const legacySeesModern = await readyPeer(legacy, modern.address)
    const modernSeesLegacy = await readyPeer(modern, legacy.address)
    expect(legacySeesModern.proven).toBe(false)
    expect(modernSeesLegacy.proven).toBe(false)
    expect((await legacySeesModern.outbound!.pull(0))?.block_header.hash).toBe(G)
    expect((await modernSeesLegacy.outbound!.pull(0))?.block_header.hash).toBe(G)
  })

  it('refuses a Client whose step-3 proof does not verify (BAD_PROOF)', async () => {
    const logged: Record<string, unknown>[] = []
    const capture = (fields: object) => void logged.push(fields as Record<string, unknown>)
    const a = await startManager({
      identity: generateNodeKey(),
      logger: { debug() {}, info: capture, warn: capture, error: capture },
    })
    const attacker = generateNodeKey()
    const raw = await rawClient(a)
    raw.send({
      code: 'SHAKEHAND',
      data: { ...status('127.0.0.1:41'), key: attacker.publicKey, nonce: createNonce() },
    })
    const answer = (await receive(raw)) as Extract<Message, { code: 'SHAKEHAND' }>
    expect(answer.data.proof).toMatch(/^[0-9a-f]{128}$/)
    // Signs the wrong role's transcript: a reflected proof.
    raw.send({
      code: 'SHAKEHAND',
      data: {
        ...status('127.0.0.1:41'),
        key: attacker.publicKey,
        proof: attacker.sign('not the transcript'),
      },
    })
    expect(await raw.closed).toMatchObject({ initiator: 'remote' })
    // The session closes before the Client is identified: no peer, the typed reason logged.
    await expect.poll(() => logged.find((f) => f.reason === R.BAD_PROOF)).toBeDefined()
    expect(a.peers()).toHaveLength(0)
  })

  it('refuses anything but the step-3 SHAKEHAND before the Client proved its key (step 4)', async () => {
    const logged: Record<string, unknown>[] = []
    const capture = (fields: object) => void logged.push(fields as Record<string, unknown>)
    const a = await startManager({
      identity: generateNodeKey(),
      logger: { debug() {}, info: capture, warn: capture, error: capture },
    })
    const raw = await rawClient(a)
    raw.send({
      code: 'SHAKEHAND',
      data: { ...status('127.0.0.1:42'), key: generateNodeKey().publicKey, nonce: createNonce() },
    })
    await receive(raw)
    raw.send({ code: 'PULL_BLOCK', data: 0 })
    await raw.closed
    await expect.poll(() => logged.find((f) => f.reason === R.BAD_PROOF)).toBeDefined()
  })

  it('a captured step-3 SHAKEHAND replayed on a new connection fails', async () => {
    const server = generateNodeKey()
    const a = await startManager({ identity: server })
    const client = generateNodeKey()
    const nonce = createNonce()
    const opening = { ...status('127.0.0.1:43'), key: client.publicKey, nonce }
    // First connection: an honest handshake, and its step 3 captured.
    const first = await rawClient(a)
    first.send({ code: 'SHAKEHAND', data: opening })
    const two = ((await receive(first)) as { data: Status }).data
    const fields = {
      genesis: G,
      clientKey: client.publicKey,
      clientNonce: nonce,
      clientAddress: opening.address,
      serverKey: two.key!,
      serverNonce: two.nonce!,
      serverAddress: two.address,
    }
    const step3 = {
      code: 'SHAKEHAND' as const,
      data: {
        ...status('127.0.0.1:43'),
        key: client.publicKey,
        proof: client.sign(handshakeTranscript('client', fields)),
      },
    }
    first.send(step3)
    expect((await receive(first)).code).toBe('SHAKEHAND')
    expect(first.status).toBe('open')
    // Second connection: the same opening, but the Server picks a fresh nonce, so the old proof is void.
    const second = await rawClient(a)
    second.send({ code: 'SHAKEHAND', data: opening })
    const again = ((await receive(second)) as { data: Status }).data
    expect(again.nonce).not.toBe(two.nonce)
    second.send(step3)
    expect(await second.closed).toMatchObject({ initiator: 'remote' })
    expect(first.status).toBe('open')
  })

  it('a Client refuses a Server whose proof does not verify (BAD_PROOF)', async () => {
    const impostor = generateNodeKey()
    const listener = await tcpTransport().listen('127.0.0.1:0', (server: Connection) => {
      server.on('message', (m) => {
        if (m.code === 'SHAKEHAND')
          server.send({
            code: 'SHAKEHAND',
            data: {
              ...status(listener.address),
              key: impostor.publicKey,
              nonce: createNonce(),
              proof: impostor.sign('a transcript of some other connection'),
            },
          })
      })
    })
    const logged: Record<string, unknown>[] = []
    const capture = (fields: object) => void logged.push(fields as Record<string, unknown>)
    const b = await startManager({
      identity: generateNodeKey(),
      peers: [listener.address],
      logger: { debug() {}, info: capture, warn: capture, error: capture },
    })
    await expect.poll(() => logged.find((f) => f.reason === R.BAD_PROOF)).toBeDefined()
    expect(b.readyPeers()).toHaveLength(0)
    await listener.close()
  })

  it('a pinned peer (KEY@host:port) that proves another key is closed with KEY_MISMATCH', async () => {
    const a = await startManager({ identity: generateNodeKey() })
    const expected = generateNodeKey().publicKey
    const logged: Record<string, unknown>[] = []
    const capture = (fields: object) => void logged.push(fields as Record<string, unknown>)
    const b = await startManager({
      identity: generateNodeKey(),
      peers: [`${expected}@${a.address}`],
      logger: { debug() {}, info: capture, warn: capture, error: capture },
    })
    await expect.poll(() => logged.find((f) => f.reason === R.KEY_MISMATCH)).toBeDefined()
    expect(b.readyPeers()).toHaveLength(0)
  })

  it('a pinned peer that proves the pinned key is connected', async () => {
    const key = generateNodeKey()
    const a = await startManager({ identity: key })
    const b = await startManager({
      identity: generateNodeKey(),
      peers: [`${key.publicKey}@${a.address}`],
    })
    expect((await readyPeer(b, key.publicKey)).key).toBe(key.publicKey)
  })

  it('with requireIdentity, a peer that proves nothing is refused (IDENTITY_REQUIRED)', async () => {
    const logged: Record<string, unknown>[] = []
    const capture = (fields: object) => void logged.push(fields as Record<string, unknown>)
    const strict = await startManager({
      identity: generateNodeKey(),
      requireIdentity: true,
      logger: { debug() {}, info: capture, warn: capture, error: capture },
    })
    const raw = await rawClient(strict)
    raw.send({ code: 'SHAKEHAND', data: status('127.0.0.1:44') })
    expect(await raw.closed).toMatchObject({ initiator: 'remote' })
    await expect.poll(() => logged.find((f) => f.reason === R.IDENTITY_REQUIRED)).toBeDefined()
    expect(strict.peers()).toHaveLength(0)
  })
})

describe('ban framing (section 11)', () => {
  it('an attacker claiming an honest node`s address is banned by that address; the honest node, known by its key, is still served', async () => {
    const honestKey = generateNodeKey()
    const a = await startManager({ identity: generateNodeKey(), limits: { banThreshold: 2 } })
    const honest = await startManager({ identity: honestKey, peers: [a.address] })
    const peer = await readyPeer(a, honestKey.publicKey)
    for (let i = 0; i < 2; i++) {
      const attacker = await rawClient(a)
      // Claims the honest node's address but proves no key.
      attacker.send({ code: 'SHAKEHAND', data: status(honest.address) })
      await receive(attacker)
      attacker.send({ code: 'PUSH_BLOCK', data: null })
      await attacker.closed
    }
    expect(a.bannedFor(honest.address)).toBeGreaterThan(0)
    expect(a.bannedFor(honestKey.publicKey)).toBe(0)
    expect(peer.ready).toBe(true)
    expect((await peer.outbound!.pull(0))?.block_header.hash).toBe(G)
    const honestSeesA = await readyPeer(honest, a.key!)
    expect((await honestSeesA.outbound!.pull(0))?.block_header.hash).toBe(G)
  })
})
