import { runTransportCompliance } from '../src/compliance.js'
import { memoryNetwork, tcpTransport } from '../src/index.js'

runTransportCompliance('tcp (IPv4)', () => ({
  createTransport: (options) => tcpTransport(options),
  listenAddress: () => '127.0.0.1:0',
}))

runTransportCompliance('memory', () => {
  const network = memoryNetwork({ latencyMs: 2, jitterMs: 1, seed: 42 })
  return {
    createTransport: (options) => network.transport(options),
    listenAddress: () => 'mem-server:0',
  }
})
