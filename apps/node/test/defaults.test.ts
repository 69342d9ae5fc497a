// Each rule's default lives in one table per package; the node's config
// must not drift from them, and docs/LIMITS.md must name every one.
import { readFileSync } from 'node:fs'
import { GOSSIP_DEFAULTS } from '@chronos/gossip'
import { DEFAULT_PEER_LIMITS } from '@chronos/peer'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../src/index.js'

const limitsDoc = readFileSync(new URL('../../../docs/LIMITS.md', import.meta.url), 'utf8')
const named = (key: string) => limitsDoc.includes(`\`${key}\``)

/** Node config keys whose default is a package's (the node's name where it differs). */
const PEER_KEYS = [
  'maxOutbound',
  'maxInbound',
  'knownSetSize',
  'statusIntervalMs',
  'handshakeTimeoutMs',
  'requestTimeoutMs',
  'banMs',
  'reconnectMaxMs',
  'maxBodyBytes',
  'targetOutbound',
  'peerExchangeIntervalMs',
  'meritWindowMs',
  'evictionGraceMs',
  'maxOutboundPerHost',
] as const
const GOSSIP_KEYS = [
  'fetchTimeoutMs',
  'maxFetches',
  'maxCandidates',
  'maxFutureBlocks',
  'maxRememberedHashes',
  'maxRelaysPerRound',
  'maxAnnounceHoldMs',
  'maxAnnouncesPerPeer',
  'maxAnnouncesPerRound',
  'maxOrphanCandidates',
  'maxRefusedHashes',
] as const

describe('defaults have one home', () => {
  it.each(PEER_KEYS)('node config %s equals @chronos/peer`s default', (key) => {
    expect(DEFAULT_LIMITS[key]).toBe(DEFAULT_PEER_LIMITS[key])
  })

  it.each(GOSSIP_KEYS)('node config %s equals @chronos/gossip`s default', (key) => {
    expect(DEFAULT_LIMITS[key]).toBe(GOSSIP_DEFAULTS[key])
  })

  it('docs/LIMITS.md names every peer, gossip and node limit', () => {
    const keys = [
      ...Object.keys(DEFAULT_PEER_LIMITS),
      ...Object.keys(GOSSIP_DEFAULTS),
      ...Object.keys(DEFAULT_LIMITS),
    ]
    expect(keys.filter((key) => !named(key))).toEqual([])
  })
})
