/**
 * The edge between the bridge and our nodes' HTTP API: every response is
 * validated here, and the node's words for how it saw a block are turned
 * into the bridge's one vocabulary (`Arrival`) here and nowhere else.
 * The schemas accept members they do not know (a newer node adds fields),
 * but a member we use must have the type we expect.
 */
import { z } from 'zod'
import type { Arrival } from './protocol.js'

const hex = z.string().regex(/^[0-9a-f]+$/)

export const apiPeerSchema = z.object({
  address: z.string(),
  height: z.number().int().nonnegative().optional(),
  head: z.string().optional(),
  rttMs: z.number().nonnegative().optional(),
  /** 1.1: the peer's public key, once known. */
  key: hex.optional(),
  /** 1.1: the peer proved it holds that key. */
  proven: z.boolean().optional(),
  /** The peer said it is an observer (a bridge): not a node of the network. */
  observer: z.boolean().optional(),
})

export const apiStatusSchema = z.object({
  address: z.string(),
  network: z.string(),
  height: z.number().int().nonnegative(),
  head: z.string(),
  round: z.number().int().nonnegative(),
  producing: z.boolean(),
  mempool: z.number().int().nonnegative(),
  peers: z.array(apiPeerSchema),
  /** 1.1: this node's public key. */
  key: hex.optional(),
  permissioned: z.boolean().optional(),
  producers: z.array(hex).optional(),
  /** The producer in turn this round, as the node computes it. */
  inTurn: hex.optional(),
})
export type ApiStatus = z.infer<typeof apiStatusSchema>

export const apiObservationSchema = z.object({
  seq: z.number().int().positive(),
  at: z.number(),
  kind: z.string(),
  hash: z.string(),
  height: z.number().int().nonnegative().optional(),
  producer: z.string().optional(),
  transactions: z.number().int().nonnegative().optional(),
  from: z.string().optional(),
  forkHeight: z.number().int().nonnegative().optional(),
  removed: z.number().int().nonnegative().optional(),
})
type ApiObservation = z.infer<typeof apiObservationSchema>

/** What one observation tells the bridge. */
export type NodeReport =
  | {
      type: 'sighting'
      hash: string
      at: number
      arrival: Arrival
      via: string | null
      height?: number
      producer?: string
      transactions?: number
      confirmed: boolean
    }
  | { type: 'reorg'; head: string; height: number; forkHeight: number; removed: number }
  | { type: 'unknown'; kind: string }

/**
 * The node's observation kinds (apps/node `ObservationKind`) in the
 * bridge's vocabulary. `block` is "received whole": the view makes it
 * `pull` when the node had the hash announced first.
 */
const ARRIVAL_OF: Record<string, Arrival> = {
  produced: 'produced',
  block: 'push',
  hash: 'announced',
  synced: 'synced',
  confirmed: 'seen',
}

export function toReport(o: ApiObservation): NodeReport {
  if (o.kind === 'reorg')
    return {
      type: 'reorg',
      head: o.hash,
      height: o.height ?? 0,
      forkHeight: o.forkHeight ?? 0,
      removed: o.removed ?? 0,
    }
  const arrival = ARRIVAL_OF[o.kind]
  if (!arrival) return { type: 'unknown', kind: o.kind }
  return {
    type: 'sighting',
    hash: o.hash,
    at: o.at,
    arrival,
    via: o.from ?? null,
    height: o.height,
    producer: o.producer,
    transactions: o.transactions,
    confirmed: o.kind === 'confirmed',
  }
}

export class NodeApiError extends Error {
  readonly code = 'NODE_API_INVALID'
  constructor(
    readonly url: string,
    readonly issue: string,
  ) {
    super(`${url}: ${issue}`)
    this.name = 'NodeApiError'
  }
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
  if (!response.ok) throw new NodeApiError(url, `HTTP ${response.status}`)
  return response.json()
}

const describe = (error: z.ZodError) => {
  const issue = error.issues[0]
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'
}

export async function readStatus(api: string): Promise<ApiStatus> {
  const url = `http://${api}/status`
  const parsed = apiStatusSchema.safeParse(await getJson(url))
  if (!parsed.success) throw new NodeApiError(url, describe(parsed.error))
  return parsed.data
}

/**
 * Observations after `after`. Entries that do not validate are skipped one by
 * one (counted in `invalid`) so one bad entry cannot stall the reader; `last`
 * is the highest seq read, valid or not.
 */
export async function readObservations(
  api: string,
  after: number,
): Promise<{ reports: NodeReport[]; last: number; invalid: number }> {
  const url = `http://${api}/observations?after=${after}`
  const body = await getJson(url)
  if (!Array.isArray(body)) throw new NodeApiError(url, 'expected an array')
  const reports: NodeReport[] = []
  let last = after
  let invalid = 0
  for (const entry of body) {
    const parsed = apiObservationSchema.safeParse(entry)
    const seq = (entry as { seq?: unknown } | null)?.seq
    if (typeof seq === 'number' && Number.isInteger(seq)) last = Math.max(last, seq)
    if (!parsed.success) {
      invalid++
      continue
    }
    reports.push(toReport(parsed.data))
  }
  return { reports, last, invalid }
}
