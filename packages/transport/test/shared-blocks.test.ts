import { createBlock, createGenesis, type Message } from '@chronos/codec'
import { describe, expect, it } from 'vitest'
import { type Connection, memoryNetwork } from '../src/index.js'

const genesis = createGenesis({ network: 'shared', roundMs: 1000, timestamp: 1_764_547_200_000 })
const block = createBlock({
  height: 1,
  prevHash: genesis.block_header.hash,
  timestamp: genesis.block_header.timestamp + 1000,
  producer: 'a:1',
  transactions: [{ from: 'x', to: 'y', amount: 1, nonce: 0 }],
})

/** `receivers` hosts each listening; host `a` dials all and sends them one NEW_BLOCK. */
async function deliverToAll(shareBlocks: boolean, receivers: number) {
  const network = memoryNetwork({ shareBlocks })
  const got: Message[] = []
  const arrived = new Promise<void>((resolve) => {
    for (let i = 0; i < receivers; i++) {
      void network.transport({ host: `r${i}` }).listen(`r${i}:1`, (server: Connection) =>
        server.on('message', (m) => {
          got.push(m)
          if (got.length === receivers) resolve()
        }),
      )
    }
  })
  const sender = network.transport({ host: 'a' })
  const clients = await Promise.all(
    Array.from({ length: receivers }, (_, i) => sender.dial(`r${i}:1`)),
  )
  for (const client of clients) client.send({ code: 'NEW_BLOCK', data: block })
  await arrived
  for (const client of clients) client.close()
  return { got, network }
}

describe('memory network with shareBlocks', () => {
  it('hands every receiver of one NEW_BLOCK body the same deeply frozen block', async () => {
    const { got, network } = await deliverToAll(true, 3)
    const [first, ...rest] = got.map((m) => m.data as typeof block)
    for (const other of rest) expect(other).toBe(first)
    expect(first).toEqual(block)
    expect(Object.isFrozen(first!.transactions[0])).toBe(true)
    expect(() => {
      ;(first!.block_header as { height: number }).height = 2
    }).toThrow(TypeError)
    expect(network.sharedBlocks?.isShared(first!)).toBe(true)
  })

  it('decodes once per receiver, into objects of their own, when off (the default)', async () => {
    const { got, network } = await deliverToAll(false, 2)
    expect(got[0]!.data).not.toBe(got[1]!.data)
    expect(got[0]!.data).toEqual(got[1]!.data)
    expect(Object.isFrozen(got[0]!.data)).toBe(false)
    expect(network.sharedBlocks).toBeUndefined()
  })
})
