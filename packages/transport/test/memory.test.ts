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

/** Arrival times (ms after the first send) of `count` messages. */
async function arrivalTimes(latencyMs: number, jitterMs: number, seed: number, count: number) {
  const network = memoryNetwork({ latencyMs, jitterMs, seed })
  const { client, server, listener } = await connectPair(network)
  const times: number[] = []
  const start = performance.now()
  const done = new Promise<void>((resolve) =>
    server.on('message', () => {
      times.push(performance.now() - start)
      if (times.length === count) resolve()
    }),
  )
  for (let i = 0; i < count; i++) client.send({ code: 'PULL_BLOCK', data: i })
  await done
  await listener.close()
  return times
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

  it('draws the same delays for the same seed', async () => {
    // Compared as the order of gaps between arrivals, which timer resolution cannot blur.
    const shape = (times: number[]) => times.slice(1).map((t, i) => Math.round((t - times[i]!) / 5))
    const a = await arrivalTimes(0, 60, 11, 8)
    const b = await arrivalTimes(0, 60, 11, 8)
    expect(shape(a)).toEqual(shape(b))
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
