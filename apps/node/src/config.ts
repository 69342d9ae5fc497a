import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { addressSchema } from '@chronos/codec'
import { z } from 'zod'
import { CLOCK_CHECK_DEFAULTS } from './clock-check.js'

/** `HOST:PORT`, or a bare port meaning 127.0.0.1:PORT (the API's default host). */
const apiAddressSchema = z
  .union([z.number().int().min(0).max(65_535), z.string()])
  .transform((value, ctx) => {
    const text = String(value)
    if (/^\d+$/.test(text)) return `127.0.0.1:${text}`
    const parsed = addressSchema.safeParse(text)
    if (parsed.success) return parsed.data
    ctx.addIssue({ code: 'custom', message: `expected HOST:PORT or PORT, got "${text}"` })
    return z.NEVER
  })

export const limitsSchema = z.strictObject({
  /** Peers we dial. */
  maxOutbound: z.number().int().min(0).default(16),
  /** Peers that dial us. */
  maxInbound: z.number().int().min(0).default(64),
  /** Hashes remembered per peer. */
  knownSetSize: z.number().int().min(1).default(1024),
  /** Largest frame body. */
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(8 * 1024 * 1024),
  /** The status beat. The spec allows at most 5 s. */
  statusIntervalMs: z.number().int().min(50).max(5_000).default(2_000),
  /** SHAKEHAND exchange deadline, both directions. */
  handshakeTimeoutMs: z.number().int().min(100).default(5_000),
  /** Unanswered request deadline. */
  requestTimeoutMs: z.number().int().min(100).default(10_000),
  /** PULL_BLOCKs in flight during sync. */
  syncWindow: z.number().int().min(1).default(64),
  /** How long an announcer has to deliver a block before the next one is asked. */
  fetchTimeoutMs: z.number().int().min(10).default(1_000),
  /** Announced hashes being fetched at once (GET_BLOCK with fallback). */
  maxFetches: z.number().int().min(1).default(1024),
  /** Candidates of the current round kept, to serve GET_BLOCK. */
  maxCandidates: z.number().int().min(1).default(256),
  /** Blocks of a later round held until it starts. */
  maxFutureBlocks: z.number().int().min(0).default(64),
  /** Candidate hashes remembered, to answer BLOCK_KNOWN for blocks we saw but did not confirm. */
  maxRememberedHashes: z.number().int().min(1).default(1024),
  /** An outbound peer that gave no new block for this long may lose its slot to a newcomer. */
  meritWindowMs: z
    .number()
    .int()
    .min(0)
    .default(5 * 60_000),
  /** A new outbound peer is never evicted before this. */
  evictionGraceMs: z.number().int().min(0).default(30_000),
  /** Unconfigured outbound connections to one host. */
  maxOutboundPerHost: z.number().int().min(1).default(8),
  /** Outbound connections kept by dialing addresses learned by peer exchange. */
  targetOutbound: z.number().int().min(0).default(8),
  /** Addresses held in the address book (peer exchange). */
  addressBookSize: z.number().int().min(1).default(1_024),
  /** GET_PEERS to one peer at most this often. */
  peerExchangeIntervalMs: z.number().int().min(50).default(60_000),
  /** Transactions waiting in the mempool. */
  mempoolSize: z.number().int().min(1).default(10_000),
  /** Largest `POST /tx` body, in bytes. */
  maxTxBytes: z
    .number()
    .int()
    .min(256)
    .default(64 * 1024),
  /** Bytes buffered across all connections (frames arriving, send buffers); past it: BUFFER_BUDGET_EXCEEDED. */
  maxBufferedBytes: z
    .number()
    .int()
    .min(1024 * 1024)
    .default(256 * 1024 * 1024),
  /** Bytes the mempool holds (each transaction's JCS encoding). */
  mempoolBytes: z
    .number()
    .int()
    .min(1024)
    .default(32 * 1024 * 1024),
  /** Picks of one round relayed (PROTOCOL.md section 7); our own and in-turn blocks are exempt. */
  maxRelaysPerRound: z.number().int().min(1).default(16),
  /** Longest an answer to NEW_BLOCK_HASH is held while another announcer delivers. */
  maxAnnounceHoldMs: z.number().int().min(0).default(200),
  /** Unknown announced hashes taken up per announcer per round (past it: BLOCK_KNOWN, untracked). */
  maxAnnouncesPerPeer: z.number().int().min(1).default(64),
  /** Unknown announced hashes taken up across all announcers per round. */
  maxAnnouncesPerRound: z.number().int().min(1).default(1024),
  /** Current-round candidates held while sync fetches their parent. */
  maxOrphanCandidates: z.number().int().min(0).default(32),
  /** Hashes of refused blocks remembered so a replay costs no verification. */
  maxRefusedHashes: z.number().int().min(1).default(4096),
  /** Transactions per produced block. */
  maxBlockTransactions: z.number().int().min(0).default(1_000),
  /** Distinct peers refused IMPOSSIBLE_HEIGHT within `slowClockWindowMs` before our clock is reported slow. */
  slowClockPeers: z.number().int().min(1).default(CLOCK_CHECK_DEFAULTS.minPeers),
  /** How far back IMPOSSIBLE_HEIGHT refusals count towards the slow-clock warning. */
  slowClockWindowMs: z.number().int().min(1_000).default(CLOCK_CHECK_DEFAULTS.windowMs),
  /** While our clock stays suspected slow, the warning is logged again at most this often. */
  slowClockWarnIntervalMs: z.number().int().min(1_000).default(CLOCK_CHECK_DEFAULTS.warnIntervalMs),
  /** Peers remembered for the slow-clock check (keyed by claimed address; the oldest go first). */
  slowClockMaxPeers: z.number().int().min(1).default(CLOCK_CHECK_DEFAULTS.maxPeers),
  /** A connection that sends nothing for this long is closed (IDLE_TIMEOUT); 0 disables. */
  idleTimeoutMs: z.number().int().min(0).default(30_000),
  /** A frame that stays incomplete this long closes its connection (FRAME_TIMEOUT). */
  frameTimeoutMs: z.number().int().min(100).default(30_000),
  /** Inbound connections per remote IP, before any handshake. */
  maxInboundPerHost: z.number().int().min(1).default(32),
  /** Longest wait between redials of a configured peer (the wait doubles from 500 ms). */
  reconnectMaxMs: z.number().int().min(100).default(30_000),
  /** How long an address that keeps breaking the protocol is refused. */
  banMs: z.number().int().min(0).default(60_000),
})

/** A configured peer: `host:port`, or `KEY@host:port` to pin the key it must prove (section 11). */
const peerSpecSchema = z.string().refine((value) => {
  const at = value.indexOf('@')
  if (at >= 0 && !/^[0-9a-f]{64}$/.test(value.slice(0, at))) return false
  return addressSchema.safeParse(at >= 0 ? value.slice(at + 1) : value).success
}, 'expected host:port or KEY@host:port (KEY: 64 lowercase hex characters)')

export const nodeConfigSchema = z.strictObject({
  /**
   * Directory for the chain database (`<data>/chain`). Required unless a
   * library caller passes its own `db`.
   */
  data: z.string().min(1).optional(),
  /**
   * Path of the genesis block file (`chronos-node genesis` output). The CLI
   * requires it; a library caller passes the block itself instead.
   */
  genesis: z.string().min(1).optional(),
  listen: addressSchema,
  /** The address peers should dial; defaults to `listen`. */
  advertise: addressSchema.optional(),
  peers: z.array(peerSpecSchema).default([]),
  produce: z.boolean().default(false),
  /** Prove a node key (kept in `<data>/node-key.json`, created on first start) on every connection. */
  identity: z.boolean().default(true),
  /** A separate key file to sign produced blocks with (default: the node key). */
  producerKey: z.string().min(1).optional(),
  /** Peer exchange (section 13): serve GET_PEERS, learn addresses into a persisted book, dial from it. */
  peerExchange: z.boolean().default(true),
  /** Refuse peers that prove no key (IDENTITY_REQUIRED). */
  requireIdentity: z.boolean().default(false),
  /** A producer that is not in turn waits this long into the round before it sends (default: a third of the round). */
  outOfTurnDelayMs: z.number().int().min(0).optional(),
  /** Synthetic transactions per second packed by a producer. */
  txRate: z.number().min(0).default(0),
  api: apiAddressSchema.optional(),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /**
   * Added to the system clock wherever the node reads the time (rounds,
   * timestamps, timeliness): skews one node for fault tests. Default 0.
   */
  clockOffsetMs: z.number().int().min(-3_600_000).max(3_600_000).default(0),
  limits: limitsSchema.default(limitsSchema.parse({})),
})

/** A validated config, every default filled in (what `resolveConfig` returns). */
export type NodeConfig = z.output<typeof nodeConfigSchema>
/** What a caller may write: defaults may be left out (a plain object is accepted). */
export type NodeConfigInput = z.input<typeof nodeConfigSchema>
export type NodeLimits = z.output<typeof limitsSchema>

/** Every limit's default, from the schema (the one place they are defined). */
export const DEFAULT_LIMITS: Readonly<NodeLimits> = Object.freeze(limitsSchema.parse({}))

/** A config file or flag that does not validate. `issues` name each bad field. */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG'
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`invalid configuration (${source}):\n  ${issues.join('\n  ')}`)
  }
}

const describe = (error: z.ZodError) =>
  error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)

/** Config members that name files: relative ones in a config file are relative to that file. */
const PATH_KEYS = ['data', 'genesis', 'producerKey'] as const

/**
 * Reads a JSON config file as a partial config (the environment and flags
 * fill in or override the rest). Relative paths in it resolve against the
 * file's directory, so the file means the same from any working directory.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new ConfigError(path, [(error as Error).message])
  }
  const partial = nodeConfigSchema.partial().safeParse(parsed)
  if (!partial.success) throw new ConfigError(path, describe(partial.error))
  const file = { ...(parsed as Record<string, unknown>) }
  for (const key of PATH_KEYS)
    if (typeof file[key] === 'string') file[key] = resolve(dirname(path), file[key])
  return file
}

/** One source of settings, lowest precedence first in `resolveConfig`. */
export interface ConfigLayer {
  /** Named in errors, e.g. `config.json`, `environment`, `flags`. */
  source: string
  values: Record<string, unknown>
}

/**
 * Merges layers of settings, later ones winning (the CLI passes file, then
 * environment, then flags); `limits` merge member by member; undefined
 * values are absent. Validates the result against the schema.
 */
export function mergeConfig(...layers: ConfigLayer[]): NodeConfig {
  let merged: Record<string, unknown> = {}
  let limits: Record<string, unknown> = {}
  for (const { values } of layers) {
    const defined = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined))
    limits = { ...limits, ...(defined.limits as object) }
    merged = { ...merged, ...defined }
  }
  const result = nodeConfigSchema.safeParse({ ...merged, limits })
  if (!result.success)
    throw new ConfigError(layers.map((layer) => layer.source).join(' + '), describe(result.error))
  return result.data
}

/** Merges a config file's values with flags (flags win; limits merge member by member). */
export function resolveConfig(
  file: Record<string, unknown>,
  flags: Record<string, unknown>,
): NodeConfig {
  return mergeConfig({ source: 'config', values: file }, { source: 'flags', values: flags })
}

/** Validates a library caller's config (a plain object; defaults filled in). */
export function parseConfig(config: NodeConfigInput | NodeConfig): NodeConfig {
  return mergeConfig({ source: 'config', values: config as Record<string, unknown> })
}
