/**
 * `@chronos/codec/testing`: pure builders of test chains, the one home of
 * the chain builders every package's tests (and benchmarks) use. Built only
 * on the codec's own `createBlock`, `sealBlock` and round arithmetic; no
 * I/O, no clock, no dependency beyond the codec.
 */
import { createBlock } from './block.js'
import type { NetworkParams } from './genesis.js'
import { type NodeKey, sealBlock } from './identity.js'
import { type RoundClock, roundOf, roundStart } from './rounds.js'
import type { Block, Transaction } from './schemas.js'

export interface ChainOptions {
  /**
   * The network whose rounds the timestamps follow. Sealing (`keyFor`) also
   * needs its `genesisHash`, as `readNetworkParams(genesis)` gives it.
   */
  network: RoundClock & Partial<Pick<NetworkParams, 'genesisHash'>>
  /** Makes a different fork from the same parent. Default 'a'. */
  tag?: string
  /** Default `producer-<tag>` (or the sealing key's public key). */
  producer?: string
  /** Transactions per block, each `{tag, height, n}`. Default 1. */
  transactions?: number
  /** Rounds from the parent's round to the block's (0: the same round). Default 1. */
  step?: number
  /** How far into its round the block is stamped, ms. Default 1. */
  offsetMs?: number
  /** Permissioned networks: the key that produces and seals the block of a round. */
  keyFor?: (round: number) => NodeKey
}

/** The block after `parent`, `step` rounds later, `offsetMs` into its round. */
export function nextBlock(parent: Block, options: ChainOptions): Block {
  const { network } = options
  const tag = options.tag ?? 'a'
  const height = parent.block_header.height + 1
  const round = roundOf(parent.block_header.timestamp, network) + (options.step ?? 1)
  const key = options.keyFor?.(round)
  const transactions: Transaction[] = Array.from({ length: options.transactions ?? 1 }, (_, n) => ({
    tag,
    height,
    n,
  }))
  const block = createBlock({
    height,
    prevHash: parent.block_header.hash,
    timestamp: roundStart(round, network) + (options.offsetMs ?? 1),
    producer: key?.publicKey ?? options.producer ?? `producer-${tag}`,
    transactions,
  })
  if (!key) return block
  if (network.genesisHash === undefined)
    throw new TypeError('nextBlock: sealing (keyFor) needs network.genesisHash')
  return sealBlock(block, key, network.genesisHash)
}

/** `length` blocks on `parent`, one round apart unless `step` says otherwise. */
export function buildChain(parent: Block, length: number, options: ChainOptions): Block[] {
  const out: Block[] = []
  let tip = parent
  for (let i = 0; i < length; i++) {
    tip = nextBlock(tip, options)
    out.push(tip)
  }
  return out
}

export interface ChainBuilder {
  nextBlock(parent: Block, options?: Partial<ChainOptions>): Block
  buildChain(parent: Block, length: number, options?: Partial<ChainOptions>): Block[]
}

/** `nextBlock` and `buildChain` with a package's defaults (its network, offset, size) bound. */
export function chainBuilder(defaults: ChainOptions): ChainBuilder {
  return {
    nextBlock: (parent, options = {}) => nextBlock(parent, { ...defaults, ...options }),
    buildChain: (parent, length, options = {}) =>
      buildChain(parent, length, { ...defaults, ...options }),
  }
}
