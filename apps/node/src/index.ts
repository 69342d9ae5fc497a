/** `@chronos/node`: the composed Chronos node behind the `chronos-node` CLI. */
export { apiAddress, startApi } from './api.js'
export {
  ConfigError,
  type ConfigLayer,
  DEFAULT_LIMITS,
  mergeConfig,
  type NodeConfig,
  type NodeConfigInput,
  type NodeLimits,
  nodeConfigSchema,
  parseConfig,
  readConfigFile,
  resolveConfig,
} from './config.js'
export { DATA_DIR_FORMAT, DataDirError, type DataDirErrorCode } from './data-dir.js'
export {
  type HealthOptions,
  healthStatusCode,
  type NodeHealth,
  type NotReadyReason,
  nodeHealth,
  SYNC_TOLERANCE_BLOCKS,
} from './health.js'
export { childLogger, createLogger, prettyLine } from './logger.js'
export { Mempool, type MempoolRefusal } from './mempool.js'
export {
  createMetrics,
  type MetricsOptions,
  type MetricsSample,
  type NodeMetrics,
} from './metrics.js'
export {
  ChronosNode,
  type ChronosNodeOptions,
  type NodeStatus,
  NotAuthorizedProducerError,
  type PeerView,
} from './node.js'
export {
  createKeyFile,
  KeyFileError,
  loadOrCreateKeyFile,
  NODE_KEY_FILE,
  readKeyFile,
} from './node-key.js'
export { type Observation, type ObservationKind, ObservationLog } from './observations.js'
export { createProducer, type ProducerOptions } from './producer.js'
export { createProgressView, progressBar } from './progress-view.js'
