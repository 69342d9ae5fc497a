/** `@chronos/bridge`: watch a Chronos network and serve it live to browsers. */
export { type BridgeTarget, Observer, type ObserverOptions } from './observer.js'
export * from './protocol.js'
export { type BridgeServer, type BridgeServerOptions, startBridgeServer } from './server.js'
export { NetworkView, type NetworkViewOptions, type Sighting } from './view.js'
