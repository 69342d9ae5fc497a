/** `@chronos/bridge`: watch a Chronos network and serve it live to browsers. */
export {
  type ClientHubEvents,
  type ClientLimits,
  type ClientStats,
  DEFAULT_CLIENT_LIMITS,
  type DropReason,
} from './clients.js'
export { type HistoryOptions, HistoryStore } from './history.js'
export { NodeApiError } from './node-api.js'
export { type BridgeTarget, OBSERVER_FEATURE, Observer, type ObserverOptions } from './observer.js'
export * from './protocol.js'
export { type BridgeServer, type BridgeServerOptions, startBridgeServer } from './server.js'
export { NetworkView, type NetworkViewOptions, type Sighting } from './view.js'
