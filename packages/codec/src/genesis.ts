/**
 * The genesis block defines the network (PROTOCOL.md section 5): height 0,
 * a zero `prev_hash`, and exactly one `chronos/params` transaction carrying
 * the network name and round length. Its timestamp is the network's start G.
 */
import * as z from 'zod'
import { checkWellFormed, createBlock } from './block.js'
import { MAX_PRODUCERS, MIN_ROUND_MS, NETWORK_PARAMS_TYPE, ZERO_HASH } from './constants.js'
import { InvalidGenesisError } from './errors.js'
import type { RoundClock } from './rounds.js'
import { type Block, keySchema, uintSchema } from './schema.js'

export const networkParamsSchema = z.looseObject({
  type: z.literal(NETWORK_PARAMS_TYPE),
  network: z.string(),
  round_ms: uintSchema.min(MIN_ROUND_MS),
  /** (1.1) Section 12: the authorized producers, in turn order. Present = permissioned. */
  producers: z
    .array(keySchema)
    .min(1)
    .max(MAX_PRODUCERS)
    .refine((keys) => new Set(keys).size === keys.length, 'producer keys must be distinct')
    .optional(),
})

/** What a node reads from its genesis: the network's identity, clock and (1.1) producers. */
export interface NetworkParams extends RoundClock {
  readonly network: string
  readonly genesisHash: string
  /** (1.1) Authorized producer keys in turn order; undefined in an open network. */
  readonly producers?: readonly string[] | undefined
}

export interface GenesisOptions {
  network: string
  roundMs: number
  /** The network's start time G, Unix ms. */
  timestamp: number
  /** Defaults to "genesis". */
  producer?: string
  /** (1.1) Authorized producer keys, in turn order: makes the network permissioned. */
  producers?: readonly string[]
}

export function createGenesis(options: GenesisOptions): Block {
  const params = {
    type: NETWORK_PARAMS_TYPE,
    network: options.network,
    round_ms: options.roundMs,
    ...(options.producers ? { producers: [...options.producers] } : {}),
  }
  networkParamsSchema.parse(params)
  return createBlock({
    height: 0,
    prevHash: ZERO_HASH,
    timestamp: options.timestamp,
    producer: options.producer ?? 'genesis',
    transactions: [params],
  })
}

/** Checks a genesis block and reads its parameters; throws INVALID_GENESIS naming the fault. */
export function readNetworkParams(genesis: unknown): NetworkParams {
  const check = checkWellFormed(genesis)
  if (!check.ok) throw new InvalidGenesisError(check.message)
  const { block_header: header, transactions } = check.block
  if (header.height !== 0) throw new InvalidGenesisError(`height is ${header.height}, not 0`)
  if (header.prev_hash !== ZERO_HASH) throw new InvalidGenesisError('prev_hash is not 64 zeros')
  const candidates = transactions.filter((tx) => tx.type === NETWORK_PARAMS_TYPE)
  if (candidates.length !== 1) {
    throw new InvalidGenesisError(
      `${candidates.length} "${NETWORK_PARAMS_TYPE}" transactions, expected exactly 1`,
    )
  }
  const params = networkParamsSchema.safeParse(candidates[0])
  if (!params.success) {
    const issue = params.error.issues[0]
    throw new InvalidGenesisError(`parameters: ${issue?.path.join('.')}: ${issue?.message}`)
  }
  return {
    network: params.data.network,
    roundMs: params.data.round_ms,
    genesisTime: header.timestamp,
    genesisHash: header.hash,
    producers: params.data.producers,
  }
}
