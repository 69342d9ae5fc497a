/**
 * The bridge ↔ browser protocol, shared by the server and the page (this
 * module imports only zod, so it bundles for the browser). Every message is
 * an envelope `{v, type, seq, data}`. The server sends one `snapshot` on
 * subscribe, then `delta`s; `seq` numbers the server's updates so a client
 * can tell it missed one. A browser may only `subscribe` and `ping`:
 * anything else closes its socket.
 */
import { z } from 'zod'

export const BRIDGE_PROTOCOL_VERSION = 2

const version = z.literal(BRIDGE_PROTOCOL_VERSION)

/**
 * How a node came to hold (or know of) a block: the one vocabulary for it,
 * used by the observer, the view and the page. The node API's own words are
 * translated into it once, at the edge (`node-api.ts`).
 */
export const arrivalSchema = z.enum([
  /** It produced the block. */
  'produced',
  /** A peer pushed the block whole (NEW_BLOCK) before announcing it. */
  'push',
  /** Its hash was announced first; the node then fetched it whole (GET_BLOCK). */
  'pull',
  /** Only its hash has been announced to the node so far. */
  'announced',
  /** The node's chain reached it without a gossip sighting: it came by sync. */
  'synced',
  /** It holds the block (the bridge saw it send it, or it confirmed it); how it came is unknown. */
  'seen',
])
export type Arrival = z.infer<typeof arrivalSchema>

/** Whether an arrival means the node holds the block whole (the one rule for "reached"). */
export const holdsBlock = (arrival: Arrival): boolean => arrival !== 'announced'

export const nodeViewSchema = z.object({
  /** The node's P2P address (its Status address). */
  address: z.string(),
  /** The operator's name for it (`--node NAME=...`). */
  name: z.string().nullable(),
  height: z.number().nullable(),
  head: z.string().nullable(),
  /** SHAKEHAND round trip from the bridge, ms. */
  rttMs: z.number().nullable(),
  /** Unix ms of the last Status or report. */
  lastSeen: z.number(),
  up: z.boolean(),
  /** Known only for nodes whose API the bridge reads. */
  producing: z.boolean().nullable(),
  peers: z.number().nullable(),
  /** Transactions in its mempool (API only). */
  pending: z.number().nullable(),
  /** Share of the time since the bridge first saw it that it was up, 0..1. */
  uptime: z.number(),
  /** Its public key (protocol 1.1 identity), when its API reports one. */
  key: z.string().nullable(),
  /** Its network is permissioned and it is one of the listed producers. */
  producer: z.boolean().nullable(),
  /** Peers whose identity it has proven / all its peers (1.1, API only). */
  provenPeers: z.number().nullable(),
  /** `api` when the node's own API reports it, `p2p` when only the protocol shows it. */
  source: z.enum(['api', 'p2p']),
})

/** An undirected link between two nodes, by address, smaller first. */
export const edgeSchema = z.tuple([z.string(), z.string()])

export const reachSchema = z.object({
  node: z.string(),
  /** Unix ms when that node had it. */
  at: z.number(),
  /** The peer it came from, when known. */
  via: z.string().nullable(),
  arrival: arrivalSchema,
})

export const blockViewSchema = z.object({
  hash: z.string(),
  height: z.number().nullable(),
  producer: z.string().nullable(),
  transactions: z.number().nullable(),
  firstSeen: z.number(),
  /** A node reported confirming it (candidates that lost stay false). */
  confirmed: z.boolean(),
  reach: z.array(reachSchema),
  /** ms from the first sighting until 50 / 90 / 95 / 99 / 100 % of the nodes up held the block. */
  t50: z.number().nullable(),
  t90: z.number().nullable(),
  t95: z.number().nullable(),
  t99: z.number().nullable(),
  t100: z.number().nullable(),
})

export const networkEventSchema = z.object({
  at: z.number(),
  kind: z.enum(['reorg', 'fork', 'node-up', 'node-down']),
  node: z.string(),
  detail: z.string(),
})

/** What the network as a whole declares (from our nodes' APIs). */
export const networkInfoSchema = z.object({
  network: z.string().nullable(),
  /** Permissioned networks list their producers' keys (1.1); null when open or unknown. */
  producers: z.array(z.string()).nullable(),
  /** The producer whose turn the latest round a node reported is (section 12); null when open. */
  inTurn: z.string().nullable(),
})

export const snapshotSchema = z.object({
  network: networkInfoSchema,
  nodes: z.array(nodeViewSchema),
  edges: z.array(edgeSchema),
  blocks: z.array(blockViewSchema),
  events: z.array(networkEventSchema),
})

export const deltaSchema = z.object({
  network: networkInfoSchema.optional(),
  nodes: z.array(nodeViewSchema).optional(),
  /** The whole edge list, when it changed. */
  edges: z.array(edgeSchema).optional(),
  blocks: z.array(blockViewSchema).optional(),
  events: z.array(networkEventSchema).optional(),
})

export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({ v: version, type: z.literal('snapshot'), seq: z.number(), data: snapshotSchema }),
  z.object({ v: version, type: z.literal('delta'), seq: z.number(), data: deltaSchema }),
  z.object({
    v: version,
    type: z.literal('pong'),
    seq: z.number(),
    data: z.object({ t: z.number() }),
  }),
])

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ v: version, type: z.literal('subscribe'), seq: z.number().int() }),
  z.strictObject({
    v: version,
    type: z.literal('ping'),
    seq: z.number().int(),
    data: z.strictObject({ t: z.number() }),
  }),
])

export type NetworkInfo = z.infer<typeof networkInfoSchema>
export type NodeView = z.infer<typeof nodeViewSchema>
export type Edge = z.infer<typeof edgeSchema>
export type Reach = z.infer<typeof reachSchema>
export type BlockView = z.infer<typeof blockViewSchema>
export type NetworkEvent = z.infer<typeof networkEventSchema>
export type Snapshot = z.infer<typeof snapshotSchema>
export type Delta = z.infer<typeof deltaSchema>
export type ServerMessage = z.infer<typeof serverMessageSchema>
export type ClientMessage = z.infer<typeof clientMessageSchema>
