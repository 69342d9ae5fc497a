// The identity handshake is the session's, not the transport's: it runs the
// same over the in-memory and WebSocket transports as over TCP.
import { generateNodeKey } from '@chronos/codec'
import { memoryNetwork, type Transport } from '@chronos/transport'
import { webSocketTransport } from '@chronos/transport-ws'
import { describe, expect, it } from 'vitest'
import { genesis, readyPeer, startManager } from './helpers.js'

const network = memoryNetwork({ latencyMs: 1 })
let host = 0
const transports: [string, () => { transport: Transport; listen: string }][] = [
  [
    'in-memory',
    () => {
      const name = `host-${++host}`
      return { transport: network.transport({ host: name }), listen: `${name}:7000` }
    },
  ],
  ['WebSocket', () => ({ transport: webSocketTransport(), listen: '127.0.0.1:0' })],
]

describe.each(transports)('identity over the %s transport', (_, make) => {
  it('both sides prove their keys, and a node without a key still interoperates', async () => {
    const keyA = generateNodeKey()
    const keyB = generateNodeKey()
    const a = await startManager({ ...make(), identity: keyA })
    const b = await startManager({ ...make(), identity: keyB, peers: [a.address] })
    const legacy = await startManager({ ...make(), peers: [a.address] })
    expect((await readyPeer(a, keyB.publicKey)).proven).toBe(true)
    expect((await readyPeer(b, keyA.publicKey)).key).toBe(keyA.publicKey)
    const unproven = await readyPeer(legacy, a.address)
    expect(unproven.proven).toBe(false)
    expect((await unproven.outbound!.pull(0))?.block_header.hash).toBe(genesis.block_header.hash)
  })
})
