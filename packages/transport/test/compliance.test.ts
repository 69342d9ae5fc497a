import { afterEach, describe, it } from 'vitest'
import { runTransportCompliance } from '../src/compliance.js'
import { memoryNetwork, tcpTransport } from '../src/index.js'
import { openPartialTcpFrame } from './raw-tcp.js'

const runner = { describe, it, afterEach }

runTransportCompliance(
  'tcp (IPv4)',
  () => ({
    createTransport: (options) => tcpTransport(options),
    listenAddress: () => '127.0.0.1:0',
    openPartialFrame: openPartialTcpFrame,
  }),
  runner,
)

runTransportCompliance(
  'memory',
  () => {
    const network = memoryNetwork({ latencyMs: 2, jitterMs: 1, seed: 42 })
    return {
      createTransport: (options) => network.transport(options),
      listenAddress: () => 'mem-server:0',
      handleKinds: [],
    }
  },
  runner,
)
