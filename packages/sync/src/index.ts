/**
 * `@chronos/sync`: keeps a node's confirmed chain on the best chain its
 * peers know, with PULL_BLOCK/PUSH_BLOCK (PROTOCOL.md section 8). Only what
 * a node composes with is exported; the planner, the fork download and the
 * range download are internals (tests import them by path).
 */
export { RangeUnavailableError, SyncError, type SyncErrorCode } from './errors.js'
export type { SyncProgress } from './progress.js'
export {
  SyncEngine,
  type SyncEvents,
  type SyncFailure,
  type SyncOptions,
  type SyncResult,
} from './sync-engine.js'
