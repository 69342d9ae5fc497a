// Outbound slots (issue 10, item 12): peers that dial us and make us dial
// them back cannot keep an honest newcomer out by holding every slot.
import { describe, expect, it } from 'vitest'
import { FEATURE_OBSERVER, PEER_CLOSE_REASONS as R } from '../src/index.js'
import { closeWhere, readyPeer, startManager } from './helpers.js'

describe('outbound slots', () => {
  it('a newcomer takes the slot of a dialed-back peer that delivered nothing (EVICTED)', async () => {
    const a = await startManager({ limits: { maxOutbound: 2, evictionGraceMs: 0 } })
    const squatters = [
      await startManager({ peers: [a.address] }),
      await startManager({ peers: [a.address] }),
    ]
    for (const s of squatters) await readyPeer(a, s.address)
    expect(a.readyPeers()).toHaveLength(2)
    const evicted = closeWhere(a, (_, info) => info.reason === R.EVICTED)
    const newcomer = await startManager({ peers: [a.address] })
    await readyPeer(a, newcomer.address)
    const [victim] = await evicted
    expect(squatters.map((s) => s.address)).toContain(victim.address)
  })

  it('a peer that delivered a block within the merit window keeps its slot', async () => {
    const a = await startManager({ limits: { maxOutbound: 1, evictionGraceMs: 0 } })
    const useful = await startManager({ peers: [a.address] })
    const peer = await readyPeer(a, useful.address)
    peer.credit()
    const newcomer = await startManager({ peers: [a.address] })
    // The newcomer is served inbound, but gets no outbound slot while the useful peer delivers.
    await expect.poll(() => a.get(newcomer.address)?.inbound.size).toBe(1)
    expect(a.get(newcomer.address)?.outbound).toBeUndefined()
    expect(a.get(useful.address)?.ready).toBe(true)
  })

  it('an observer (features: observer) is kept out of the peers gossip relays to', async () => {
    const a = await startManager()
    const node = await startManager({ peers: [a.address] })
    const observer = await startManager({ peers: [a.address], features: [FEATURE_OBSERVER] })
    await readyPeer(a, node.address)
    const watching = await readyPeer(a, observer.address)
    expect(watching.observer).toBe(true)
    expect(a.relayPeers().map((p) => p.address)).toEqual([node.address])
  })
})
