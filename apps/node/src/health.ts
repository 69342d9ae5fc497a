import { parsePeerSpec } from '@chronos/peer'
import type { SlowClock } from './clock-check.js'
import type { ChronosNode } from './node.js'

/**
 * How far behind its best peer a node may be and still count as synced: at a
 * round boundary a peer that confirmed a moment earlier is one block ahead,
 * and that is the network working, not the node lagging.
 */
export const SYNC_TOLERANCE_BLOCKS = 1

/** Why a node cannot serve yet, or any more. */
export type NotReadyReason =
  /** Its store is open but its listener and engines are not started. */
  | 'STARTING'
  /** It is shutting down. */
  | 'STOPPING'
  /** Peers other than itself are configured and none has a ready session: it cannot know whether it is behind. */
  | 'NO_PEERS'

/**
 * Present while several distinct peers were refused IMPOSSIBLE_HEIGHT within
 * the window: our clock seems slow (clock-check.ts). It does not change the
 * state: the node may still be synced with peers that share its clock.
 */
export interface ClockHealth {
  clock?: { state: 'slow' } & SlowClock
}

/** What `GET /health` reports, as Lodestar's `/eth/v1/node/health` does. */
export type NodeHealth = (
  | { state: 'synced'; height: number; peers: number }
  | { state: 'syncing'; height: number; target: number; peers: number }
  | { state: 'not-ready'; reason: NotReadyReason; height: number; peers: number }
) &
  ClockHealth

export interface HealthOptions {
  /** Blocks a node may trail its best peer by and be synced (default {@link SYNC_TOLERANCE_BLOCKS}). */
  toleranceBlocks?: number
}

/**
 * The node's health from what it already knows: its lifecycle, its ready
 * peers and the heights their last Status claimed. Syncing means the best
 * peer is more than `toleranceBlocks` ahead (a sync of a one-block fork at
 * the same height does not count: it is over before anyone could route by it).
 */
export function nodeHealth(node: ChronosNode, options: HealthOptions = {}): NodeHealth {
  const slow = node.clockCheck.current()
  const health = syncHealth(node, options)
  return slow ? { ...health, clock: { state: 'slow', ...slow } } : health
}

function syncHealth(node: ChronosNode, options: HealthOptions): NodeHealth {
  const tolerance = options.toleranceBlocks ?? SYNC_TOLERANCE_BLOCKS
  const lifecycle = node.lifecycle
  const ready = lifecycle === 'running' ? node.peers.readyPeers() : []
  const height = node.store.height()
  const peers = ready.length
  if (lifecycle === 'created') return { state: 'not-ready', reason: 'STARTING', height, peers }
  if (lifecycle === 'stopping') return { state: 'not-ready', reason: 'STOPPING', height, peers }
  // A bootstrap node may list its own address among the peers (one list for every node).
  const expectsPeers = node.config.peers.some(
    (spec) => parsePeerSpec(spec).address !== node.address,
  )
  if (peers === 0 && expectsPeers) return { state: 'not-ready', reason: 'NO_PEERS', height, peers }
  const target = Math.max(height, ...ready.map((peer) => peer.status?.height ?? 0))
  if (target - height > tolerance) return { state: 'syncing', height, target, peers }
  return { state: 'synced', height, peers }
}

/** Lodestar's status codes: 200 synced, 206 syncing (or the caller's `syncing_status`), 503 not ready. */
export function healthStatusCode(health: NodeHealth, syncingStatus = 206): number {
  if (health.state === 'synced') return 200
  return health.state === 'syncing' ? syncingStatus : 503
}

/** `?syncing_status=` as Lodestar reads it: an HTTP status code 100..599 to answer while syncing. */
export type SyncingStatusParam =
  | { ok: true; code: number | undefined }
  | { ok: false; message: string }

export function parseSyncingStatus(value: string | null): SyncingStatusParam {
  if (value === null) return { ok: true, code: undefined }
  const code = Number(value)
  if (/^\d{3}$/.test(value) && code >= 100 && code <= 599) return { ok: true, code }
  return {
    ok: false,
    message: `syncing_status must be an HTTP status code 100..599, got "${value}"`,
  }
}
