/**
 * `@chronos/sync`: keeps a node's confirmed chain on the best chain its
 * peers know, with PULL_BLOCK/PUSH_BLOCK (PROTOCOL.md section 8).
 */
export { type Ancestor, findCommonAncestor, type PullBlock } from './ancestor.js'
export { RangeUnavailableError, SyncError, type SyncErrorCode } from './errors.js'
export type { SyncProgress } from './progress.js'
export { SyncEngine, type SyncEvents, type SyncOptions, type SyncResult } from './sync-engine.js'
