import { runTransportCompliance } from '@chronos/transport/compliance'
import { webSocketTransport } from '../src/index.js'

runTransportCompliance('websocket', () => ({
  createTransport: (options) => webSocketTransport(options),
  listenAddress: () => '127.0.0.1:0',
}))
