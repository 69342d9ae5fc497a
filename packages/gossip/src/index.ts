/**
 * `@chronos/gossip`: rounds, candidate selection, confirmation and block
 * broadcast (PROTOCOL.md sections 7 and 9).
 */
export {
  type DropReason,
  GOSSIP_DEFAULTS,
  GossipEngine,
  type GossipEvents,
  type GossipHandlers,
  type GossipOptions,
  type HoldReason,
  type Producer,
  type ProductionContext,
  type ScreenReason,
} from './gossip-engine.js'
export type { Round } from './round.js'
