// Review finding (stream "review"): eviction by merit needs someone to record
// merit. Real nodes on TCP: a follower that gets every block from its one
// producer must count that producer as delivering, or the producer's outbound
// slot goes to the first newcomer once its grace is over.
import { afterEach, describe, expect, it } from 'vitest'
import type { ChronosNode } from '../src/index.js'
import { makeGenesis, startNode, until } from './network.js'

const running: ChronosNode[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()))
})

describe('review: merit for outbound slots', () => {
  it('a peer whose blocks we confirm is credited (Peer.lastDeliveryAt moves)', async () => {
    const genesis = makeGenesis(200)
    const producer = await startNode({ genesis, produce: true })
    running.push(producer)
    const follower = await startNode({ genesis, peers: [producer.address] })
    running.push(follower)
    await until(
      [follower],
      () => follower.store.head().block_header.height >= 3,
      30_000,
      'the follower to confirm 3 of the producer’s blocks',
    )
    const peer = follower.peers.peers().find((p) => p.address === producer.address)
    expect(peer?.ready).toBe(true)
    // Every block the follower holds came from this peer; nothing ever calls Peer.credit().
    expect(peer!.lastDeliveryAt).toBeGreaterThan(0)
  })
})
