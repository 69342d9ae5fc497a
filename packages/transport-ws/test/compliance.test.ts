import { runTransportCompliance } from '@chronos/transport/compliance'
import { afterEach, describe, it } from 'vitest'
import { webSocketTransport } from '../src/index.js'

// Runs on TCP, so the suite's default handle kinds (TCPSocketWrap,
// TCPServerWrap) are this transport's. No openPartialFrame: ws owns framing.
runTransportCompliance(
  'websocket',
  () => ({
    createTransport: (options) => webSocketTransport(options),
    listenAddress: () => '127.0.0.1:0',
  }),
  { describe, it, afterEach },
)
