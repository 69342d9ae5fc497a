/**
 * `@chronos/gossip`: rounds, candidate selection, confirmation and block
 * broadcast (PROTOCOL.md sections 7 and 9).
 */
export {
  type DropReason,
  GossipEngine,
  type GossipEvents,
  type GossipOptions,
  type Producer,
  type ProductionContext,
} from './gossip-engine.js'
