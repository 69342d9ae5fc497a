import { describe, expect, it } from 'vitest'
import { messageOfSize } from '../src/compliance.js'
import { type Connection, memoryNetwork } from '../src/index.js'

async function connectPair(network: ReturnType<typeof memoryNetwork>, from = 'a', to = 'b') {
  let accept!: (c: Connection) => void
  const accepted = new Promise<Connection>((resolve) => (accept = resolve))
  const listener = await network.transport({ host: to }).listen(`${to}:1`, accept)
  const client = await network.transport({ host: from }).dial(listener.address)
  return { listener, client, server: await accepted }
}

/** The delays a seeded network draws for `count` messages each way on one connection. */
async function drawnDelays(seed: number, count: number) {
  const delays: number[] = []
  const network = memoryNetwork({
    jitterMs: 60,
    lossRate: 0.2,
    seed,
    onTransmit: (t) => delays.push(t.delayMs),
  })
  const { client, server, listener } = await connectPair(network)
  const received = new Promise<void>((resolve) => {
    let n = 0
    client.on('message', () => ++n === count && resolve())
  })
  for (let i = 0; i < count; i++) {
    client.send({ code: 'PULL_BLOCK', data: i })
    server.send({ code: 'PULL_BLOCK', data: i })
  }
  await received
  await listener.close()
  return delays
}

describe('memory network', () => {
  it('delays each message by at least the one-way latency and keeps order under jitter', async () => {
    const network = memoryNetwork({ latencyMs: 40, jitterMs: 30, seed: 3 })
    const { client, server, listener } = await connectPair(network)
    const seen: number[] = []
    const start = performance.now()
    const done = new Promise<number>((resolve) =>
      server.on('message', (m) => {
        seen.push(m.data as number)
        if (seen.length === 50) resolve(performance.now() - start)
      }),
    )
    for (let i = 0; i < 50; i++) client.send({ code: 'PULL_BLOCK', data: i })
    expect(await done).toBeGreaterThanOrEqual(39)
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i))
    await listener.close()
  })

  it('draws the same delays for the same seed, and different ones for another', async () => {
    const a = await drawnDelays(11, 20)
    const b = await drawnDelays(11, 20)
    const c = await drawnDelays(12, 20)
    expect(a).toHaveLength(40)
    expect(a).toEqual(b)
    expect(c).not.toEqual(a)
    // Loss at 20% must have cost some message a retransmission.
    expect(Math.max(...a)).toBeGreaterThanOrEqual(200)
  })

  it('limits throughput to the link bandwidth', async () => {
    const network = memoryNetwork({ bandwidthBytesPerSecond: 100_000 })
    const { client, server, listener } = await connectPair(network)
    const message = messageOfSize(20_000)
    const start = performance.now()
    const arrived = new Promise<number>((resolve) =>
      server.once('message', () => resolve(performance.now() - start)),
    )
    client.send(message)
    expect(await arrived).toBeGreaterThanOrEqual(195) // 20 kB at 100 kB/s
    await listener.close()
  })

  it('partitions hosts: open connections fail, dials are refused, heal restores', async () => {
    const network = memoryNetwork({ latencyMs: 1 })
    const { client, server, listener } = await connectPair(network, 'left', 'right')
    network.partition(['left'], ['right'])
    expect(await client.closed).toMatchObject({ reason: 'TRANSPORT_ERROR', initiator: 'remote' })
    expect(await server.closed).toMatchObject({ reason: 'TRANSPORT_ERROR' })
    const left = network.transport({ host: 'left' })
    await expect(left.dial(listener.address)).rejects.toMatchObject({ code: 'DIAL_FAILED' })
    network.heal()
    const again = await left.dial(listener.address)
    expect(again.status).toBe('open')
    again.close()
    await listener.close()
  })
})
