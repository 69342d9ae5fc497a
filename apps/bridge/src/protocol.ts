/**
 * The bridge ↔ browser protocol, shared by the server and the page (this
 * module imports only zod, so it bundles for the browser). Every message is
 * an envelope `{v, type, seq, data}`. The server sends one `snapshot` on
 * subscribe, then `delta`s; `seq` numbers the server's updates so a client
 * can tell it missed one. A browser may only `subscribe` and `ping`:
 * anything else closes its socket.
 */
import { z } from 'zod'

export const BRIDGE_PROTOCOL_VERSION = 1

const version = z.literal(BRIDGE_PROTOCOL_VERSION)

export const nodeViewSchema = z.object({
  /** The node's P2P address (its Status address). */
  address: z.string(),
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
  /** `block`: received whole; `hash`: announced; `produced`: its own; `seen`: observed over P2P. */
  kind: z.enum(['produced', 'block', 'hash', 'seen']),
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
  /** ms from the first sighting until 50 / 90 / 100 % of the nodes up had the block. */
  t50: z.number().nullable(),
  t90: z.number().nullable(),
  t100: z.number().nullable(),
})

export const networkEventSchema = z.object({
  at: z.number(),
  kind: z.enum(['reorg', 'fork', 'node-up', 'node-down']),
  node: z.string(),
  detail: z.string(),
})

export const snapshotSchema = z.object({
  nodes: z.array(nodeViewSchema),
  edges: z.array(edgeSchema),
  blocks: z.array(blockViewSchema),
  events: z.array(networkEventSchema),
})

export const deltaSchema = z.object({
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

export type NodeView = z.infer<typeof nodeViewSchema>
export type Edge = z.infer<typeof edgeSchema>
export type Reach = z.infer<typeof reachSchema>
export type BlockView = z.infer<typeof blockViewSchema>
export type NetworkEvent = z.infer<typeof networkEventSchema>
export type Snapshot = z.infer<typeof snapshotSchema>
export type Delta = z.infer<typeof deltaSchema>
export type ServerMessage = z.infer<typeof serverMessageSchema>
export type ClientMessage = z.infer<typeof clientMessageSchema>
