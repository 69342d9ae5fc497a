/**
 * `@chronos/node`: the composed Chronos node behind the `chronos-node` CLI.
 * Exported is what a consumer composes with: the node, its configuration,
 * the types of what it reports, and its errors. Everything else (the API
 * server, metrics, mempool, producer, logs, key files) is the node's own and
 * reached through `ChronosNode` (`config.api`, `node.metrics`, ...).
 */

export {
  CLOCK_CHECK_DEFAULTS,
  type ClockCheckOptions,
  type ClockVerdict,
  SLOW_CLOCK_WARNING,
  type SlowClock,
  SlowClockCheck,
} from './clock-check.js'
export {
  ConfigError,
  type ConfigLayer,
  DEFAULT_LIMITS,
  mergeConfig,
  type NodeConfig,
  type NodeConfigInput,
  type NodeLimits,
  parseConfig,
  readConfigFile,
  resolveConfig,
} from './config.js'
export { DataDirError, type DataDirErrorCode } from './data-dir.js'
export { type ClockHealth, type NodeHealth, type NotReadyReason, nodeHealth } from './health.js'
export { StartAbortedError, StartFailedError } from './lifecycle.js'
export type { Mempool, MempoolRefusal } from './mempool.js'
export type { NodeMetrics } from './metrics.js'
export {
  ChronosNode,
  type ChronosNodeOptions,
  type NodeStatus,
  NotAuthorizedProducerError,
  type PeerView,
} from './node.js'
export { KeyFileError } from './node-key.js'
export type { Observation, ObservationKind, ObservationLog } from './observations.js'
