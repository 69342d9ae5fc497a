// What every benchmark libp2p node shares: TCP on loopback, noise, yamux.
// The limits lifted here are the ones meant for the open internet that a
// loopback benchmark on a loaded shared machine trips: all peers share one
// host (per-host inbound rate limit) and a busy CPU stretches handshakes
// past the default 5 s deadlines. None of them changes a message's path.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'

const GENEROUS_MS = 60_000

export const libp2pBase = () => ({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  connectionManager: {
    inboundConnectionThreshold: 1_000,
    maxIncomingPendingConnections: 1_000,
    dialTimeout: GENEROUS_MS,
    inboundUpgradeTimeout: GENEROUS_MS,
    outboundUpgradeTimeout: GENEROUS_MS,
    protocolNegotiationTimeout: GENEROUS_MS,
  },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
})
