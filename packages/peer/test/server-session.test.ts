// A Server's answers under a Client that pipelines and never reads, Status
// heights no chain can have, cheap screening of blocks, and 1.1 codes.
import { connect } from 'node:net'
import { type Block, createBlock, encodeFrame, maxPossibleHeight } from '@chronos/codec'
import { describe, expect, it } from 'vitest'
import {
  type ConnectionClosed,
  ImpossibleHeightError,
  PEER_CLOSE_REASONS as R,
  type ServerSession,
} from '../src/index.js'
import {
  closeWhere,
  genesis,
  network,
  rawClient,
  receive,
  startManager,
  status,
} from './helpers.js'

/** A block of about `bytes` bytes on top of genesis. */
function bigBlock(bytes: number): Block {
  const transactions = Array.from({ length: Math.ceil(bytes / 10_000) }, (_, i) => ({
    i,
    pad: 'x'.repeat(10_000),
  }))
  return createBlock({
    height: 1,
    prevHash: genesis.block_header.hash,
    timestamp: genesis.block_header.timestamp + 1000,
    producer: 'big',
    transactions,
  })
}

describe('ServerSession answers', () => {
  it('a Client that pipelines 300 PULL_BLOCKs and never reads: at most answerWindow answers held, then SLOW_READER', async () => {
    const block = bigBlock(1024 * 1024)
    let produced = 0
    let session: ServerSession | undefined
    let maxHeld = 0
    const a = await startManager({
      limits: { answerWindow: 4, writeStallTimeoutMs: 500, maxPendingAnswers: 64 },
      handlers: {
        pull: () => {
          produced++
          return block
        },
      },
    })
    const closed = closeWhere(a, (_, info) => info.reason === R.SLOW_READER)
    // A raw socket that writes its requests and never reads a byte.
    const socket = connect(Number(a.address.split(':')[1]), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.pause()
    socket.write(encodeFrame({ code: 'SHAKEHAND', data: status('127.0.0.1:51') }))
    a.once('status', (peer) => {
      session = [...peer.inbound][0]
    })
    for (let i = 0; i < 300; i++) socket.write(encodeFrame({ code: 'PULL_BLOCK', data: 1 }))
    const watch = setInterval(() => {
      if (session) maxHeld = Math.max(maxHeld, session.pendingAnswers)
    }, 5)
    const [, info] = await closed
    clearInterval(watch)
    socket.destroy()
    expect(info).toMatchObject({ reason: R.SLOW_READER, initiator: 'local' })
    // Each produced answer holds a 1 MiB block: a few fit in the kernel's and the send buffer, then it stops.
    expect(produced).toBeLessThan(40)
    expect(maxHeld).toBeLessThanOrEqual(64)
  })

  it('a Status whose height is above the current round + 1 is IMPOSSIBLE_HEIGHT (a typed error with the height, the limit and the claimed address), and the node serves others', async () => {
    const a = await startManager()
    const closed = new Promise<ConnectionClosed>((resolve) =>
      a.on('closed', (c) => c.info.reason === R.IMPOSSIBLE_HEIGHT && resolve(c)),
    )
    const liar = await rawClient(a)
    const limit = maxPossibleHeight(Date.now(), network)
    liar.send({ code: 'SHAKEHAND', data: { ...status('127.0.0.1:52'), height: 2 ** 53 - 1 } })
    expect(await liar.closed).toMatchObject({ initiator: 'remote' })
    const { info } = await closed
    expect(info.initiator).toBe('local')
    expect(info.error).toBeInstanceOf(ImpossibleHeightError)
    expect(info.error).toMatchObject({ height: 2 ** 53 - 1, address: '127.0.0.1:52' })
    expect((info.error as ImpossibleHeightError).limit).toBeGreaterThanOrEqual(limit)
    const honest = await rawClient(a)
    honest.send({ code: 'SHAKEHAND', data: { ...status('127.0.0.1:53'), height: limit - 1 } })
    expect((await receive(honest)).code).toBe('SHAKEHAND')
  })

  it('screens a NEW_BLOCK by its header hash before verifying the rest', async () => {
    const block = bigBlock(100_000)
    const screened: string[] = []
    const delivered: string[] = []
    const a = await startManager({
      handlers: {
        screenBlock: (header) => {
          screened.push(header.hash)
          return screened.length === 1 ? 'accept' : 'ignore'
        },
        newBlock: (b) => void delivered.push(b.block_header.hash),
      },
    })
    const raw = await rawClient(a)
    raw.send({ code: 'SHAKEHAND', data: status('127.0.0.1:54') })
    await receive(raw)
    raw.send({ code: 'NEW_BLOCK', data: block })
    // The second copy has a corrupt tx_root: screened out, it is never verified, so never refused.
    const corrupt = { ...block, transactions: [...block.transactions, { extra: 1 }] }
    raw.send({ code: 'NEW_BLOCK', data: corrupt })
    raw.send({ code: 'SHAKEHAND', data: status('127.0.0.1:54') })
    expect((await receive(raw)).code).toBe('SHAKEHAND')
    expect(screened).toEqual([block.block_header.hash, block.block_header.hash])
    expect(delivered).toEqual([block.block_header.hash])
    expect(raw.status).toBe('open')
  })

  it('a NEW_BLOCK whose header hash does not recompute is MALFORMED_BLOCK before any screening', async () => {
    const screened: string[] = []
    const a = await startManager({
      handlers: { screenBlock: (h) => (screened.push(h.hash), 'accept') },
    })
    const closed = closeWhere(a)
    const raw = await rawClient(a)
    raw.send({ code: 'SHAKEHAND', data: status('127.0.0.1:55') })
    await receive(raw)
    const block = bigBlock(10)
    raw.send({
      code: 'NEW_BLOCK',
      data: { ...block, block_header: { ...block.block_header, producer: 'forged' } },
    })
    expect((await closed)[1].reason).toBe(R.MALFORMED_BLOCK)
    expect(screened).toEqual([])
  })

  it('GET_PEERS to a node that did not offer `peers` is a protocol error', async () => {
    const a = await startManager()
    const closed = closeWhere(a)
    const raw = await rawClient(a)
    raw.send({ code: 'SHAKEHAND', data: status('127.0.0.1:56') })
    await receive(raw)
    raw.send({ code: 'GET_PEERS', data: null })
    expect((await closed)[1].reason).toBe(R.NOT_OFFERED)
  })
})

describe('ServerSession pending answers', () => {
  it('behind one slow answer, ready answers count toward maxPendingAnswers and reading pauses (fuzz finding answers-unbounded)', async () => {
    const a = await startManager({
      limits: { maxPendingAnswers: 8 },
      // A PULL_BLOCK whose answer never comes: everything after it waits in FIFO order.
      handlers: { pull: () => new Promise(() => {}) },
    })
    const raw = await rawClient(a)
    raw.send({ code: 'SHAKEHAND', data: status('127.0.0.1:57') })
    await receive(raw)
    const session = await new Promise<ServerSession>((resolve) =>
      a.peers().length
        ? resolve([...a.peers()[0]!.inbound][0]!)
        : a.once('status', (p) => resolve([...p.inbound][0]!)),
    )
    raw.send({ code: 'PULL_BLOCK', data: 1 })
    for (let i = 0; i < 2_000; i++) raw.send({ code: 'SHAKEHAND', data: status('127.0.0.1:57') })
    // The node stops reading at the bound: the rest stay in the socket, not in our queue.
    await expect.poll(() => session.pendingAnswers).toBeGreaterThanOrEqual(8)
    expect(session.pendingAnswers).toBe(8)
    raw.close()
  })
})
