// What every benchmark libp2p node shares: TCP on loopback, noise, yamux.
// The limits lifted here are the ones meant for the open internet that a
// loopback benchmark on a loaded shared machine trips: all peers share one
// host (per-host inbound rate limit) and a busy CPU stretches handshakes
// past the default 5 s deadlines. None of them changes a message's path.
// The one that broke the propagation figures is the connection monitor:
// libp2p 2 pings every connection every 10 s and aborts it when a ping
// outlasts an adaptive timeout (5 s at least). A 1 MB block makes every node
// on a thread validate and verify it, the thread stalls for seconds, and
// `DEBUG=libp2p:*` showed 115 connections aborted within one second
// ("aborting connection due to ping failure"): no redial, so the mesh stayed
// thin for the rest of the phase. Pings still run (their bytes are counted);
// only their deadline is lifted to a stall no benchmark round survives anyway.
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
  connectionMonitor: {
    pingTimeout: { minTimeout: GENEROUS_MS, maxTimeout: 2 * GENEROUS_MS },
  },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
})
