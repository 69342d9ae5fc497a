// WebSocket specifics the compliance suite cannot express: an upgrade that
// fails after the listener admitted it.
import { connect } from 'node:net'
import { parseAddress } from '@chronos/codec'
import type { Connection } from '@chronos/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { webSocketTransport } from '../src/index.js'

describe('websocket listener', () => {
  const cleanups: (() => unknown)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('gives back the inbound slot of an upgrade that fails (no Sec-WebSocket-Key)', async () => {
    const accepted: Connection[] = []
    const transport = webSocketTransport({ maxInboundConnections: 1 })
    const listener = await transport.listen('127.0.0.1:0', (c) => accepted.push(c))
    cleanups.push(() => listener.close())
    const { host, port } = parseAddress(listener.address)!
    const raw = connect({ host, port })
    cleanups.push(() => raw.destroy())
    const answer = new Promise<string>((resolve) => {
      let text = ''
      raw.on('data', (chunk) => (text += chunk))
      raw.on('close', () => resolve(text))
    })
    raw.write(
      `GET / HTTP/1.1\r\nHost: ${listener.address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Version: 13\r\n\r\n',
    )
    // ws refuses the handshake; the listener admitted it first, so only a
    // slot given back lets the next (only allowed) connection in.
    expect(await answer).toMatch(/^HTTP\/1\.1 400/)
    const client = await transport.dial(listener.address)
    cleanups.push(() => client.close())
    await expect.poll(() => accepted.length).toBe(1)
    expect(client.status).toBe('open')
    expect(listener.connectionCount).toBe(1)
  })
})
