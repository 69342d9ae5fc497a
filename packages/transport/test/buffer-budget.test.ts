// The global budget of bytes buffered across connections (issue 10 item 3), over real TCP.
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BUFFER_BUDGET_EXCEEDED,
  BufferBudget,
  BufferBudgetExceededError,
  type CloseInfo,
  type Connection,
  type Listener,
  tcpTransport,
} from '../src/index.js'

const MiB = 1024 * 1024

describe('BufferBudget', () => {
  it('refuses the owner whose growth would pass the budget, keeps its old figure', () => {
    const budget = new BufferBudget(100)
    const [a, b] = [{}, {}]
    expect(budget.update(a, 60)).toBeUndefined()
    const refused = budget.update(b, 50)
    expect(refused).toBeInstanceOf(BufferBudgetExceededError)
    expect(refused?.code).toBe('BUFFER_BUDGET_EXCEEDED')
    expect(budget.usedBytes).toBe(60)
    expect(budget.update(b, 40)).toBeUndefined()
    expect(budget.usedBytes).toBe(100)
    // Shrinking always fits; release frees everything.
    expect(budget.update(a, 10)).toBeUndefined()
    budget.release(b)
    expect(budget.usedBytes).toBe(10)
    expect(budget.peakBytes).toBe(100)
  })
})

describe('tcp connections share one budget', () => {
  let listener: Listener | undefined
  const sockets: Socket[] = []
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy()
    await listener?.close()
  })

  it('near-limit frames in parallel: the connection that would pass the budget closes BUFFER_BUDGET_EXCEEDED, others keep working', async () => {
    const budget = new BufferBudget(4 * MiB)
    const accepted: Connection[] = []
    const arrivals: ((c: Connection) => void)[] = []
    listener = await tcpTransport({ maxBodyBytes: 2 * MiB, bufferBudget: budget }).listen(
      '127.0.0.1:0',
      (c) => {
        accepted.push(c)
        arrivals.shift()?.(c)
      },
    )
    const port = Number(listener.address.split(':').pop())
    const open = async () => {
      const arrived = new Promise<Connection>((resolve) => arrivals.push(resolve))
      const socket = connect({ host: '127.0.0.1', port })
      socket.on('error', () => {})
      sockets.push(socket)
      await new Promise((resolve) => socket.once('connect', resolve))
      return { socket, connection: await arrived }
    }
    // Each declares a 2 MiB body and sends 1.5 MiB of it: within its own limits.
    const header = Buffer.alloc(4)
    header.writeUInt32BE(2 * MiB)
    const partial = Buffer.concat([header, Buffer.alloc(1.5 * MiB, 0x20)])
    const closes: CloseInfo[] = []
    const peers = []
    for (let i = 0; i < 4; i++) {
      const peer = await open()
      void peer.connection.closed.then((info) => closes.push(info))
      peers.push(peer)
      const held = new Promise<void>((resolve) => {
        const check = () =>
          budget.usedBytes >= (i + 1) * 1.5 * MiB || peer.connection.status === 'closed'
            ? resolve()
            : setImmediate(check)
        check()
      })
      peer.socket.write(partial)
      await held
    }
    expect(budget.peakBytes).toBeLessThanOrEqual(4 * MiB)
    expect(closes.map((c) => c.reason)).toEqual([BUFFER_BUDGET_EXCEEDED, BUFFER_BUDGET_EXCEEDED])
    expect(closes[0]!.error).toBeInstanceOf(BufferBudgetExceededError)
    expect(peers.slice(0, 2).every((p) => p.connection.status === 'open')).toBe(true)
    // Closing a holder frees its share: a new connection is served again.
    peers[0]!.socket.destroy()
    await peers[0]!.connection.closed
    expect(budget.usedBytes).toBeLessThanOrEqual(1.5 * MiB + 64 * 1024)
    const body = '{"code":"PULL_BLOCK","data":1}'
    const frame = Buffer.alloc(4 + body.length)
    frame.writeUInt32BE(body.length)
    frame.write(body, 4)
    const fresh = await open()
    const got = new Promise((resolve) => fresh.connection.once('message', resolve))
    fresh.socket.write(frame)
    expect(await got).toEqual({ code: 'PULL_BLOCK', data: 1 })
  })
})
