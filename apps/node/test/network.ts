// In-process Chronos networks for tests: real nodes (ChronosNode) on real TCP or the in-memory transport.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Block, compareChains, createGenesis, readNetworkParams } from '@chronos/codec'
import { buildChain } from '@chronos/codec/testing'
import {
  type Connection,
  type DialOptions,
  type Listener,
  type Transport,
  tcpTransport,
} from '@chronos/transport'
import { MemoryLevel } from 'memory-level'
import { pino } from 'pino'
import { ChronosNode, resolveConfig } from '../src/index.js'

export const silent = pino({ level: 'silent' })

export function makeGenesis(roundMs: number, startMs = Date.now()) {
  return createGenesis({ network: 'node-test', roundMs, timestamp: startMs })
}

/** `length` valid blocks on `genesis`, one per round, all in the past (for preloaded stores). */
export function history(genesis: Block, length: number): Block[] {
  return buildChain(genesis, length, { network: readNetworkParams(genesis), producer: 'history' })
}

/**
 * Lets a test cut links between nodes on a real transport: each node's
 * transport is wrapped, dials across a cut are refused, and cutting closes
 * the connections that cross it.
 */
export class Switchboard {
  private readonly cuts = new Set<string>()
  private readonly links = new Set<{ from: string; to: string; connection: Connection }>()

  wrap(transport: Transport, self: () => string): Transport {
    const board = this
    return {
      name: transport.name,
      listen: (address: string, onConnection: (c: Connection) => void): Promise<Listener> =>
        transport.listen(address, onConnection),
      async dial(address: string, options?: DialOptions): Promise<Connection> {
        if (board.isCut(self(), address)) throw new Error(`link ${self()} -> ${address} is cut`)
        const connection = await transport.dial(address, options)
        const link = { from: self(), to: address, connection }
        board.links.add(link)
        void connection.closed.then(() => board.links.delete(link))
        return connection
      },
    }
  }

  partition(groupA: string[], groupB: string[]): void {
    for (const a of groupA) for (const b of groupB) this.cuts.add(`${a}|${b}`).add(`${b}|${a}`)
    for (const link of this.links)
      if (this.isCut(link.from, link.to)) link.connection.close('TRANSPORT_ERROR')
  }

  heal(): void {
    this.cuts.clear()
  }

  private isCut(a: string, b: string): boolean {
    return this.cuts.has(`${a}|${b}`)
  }
}

export interface TestNodeOptions {
  genesis: Block
  peers?: string[]
  produce?: boolean
  listen?: string
  /** A directory for a real LevelDB; omit for memory-level. */
  data?: string
  transport?: Transport
  preload?: readonly Block[]
  txRate?: number
  limits?: Record<string, number>
}

export async function startNode(options: TestNodeOptions): Promise<ChronosNode> {
  const config = resolveConfig(
    {},
    {
      data: options.data ?? '(memory)',
      genesis: '(in memory)',
      listen: options.listen ?? '127.0.0.1:0',
      peers: options.peers ?? [],
      produce: options.produce ?? false,
      txRate: options.txRate ?? 5,
      limits: {
        statusIntervalMs: 100,
        fetchTimeoutMs: 300,
        requestTimeoutMs: 5_000,
        banMs: 5_000,
        reconnectMaxMs: 400,
        ...options.limits,
      },
    },
  )
  const node = await ChronosNode.open({
    config,
    genesis: options.genesis,
    logger: silent,
    transport: options.transport ?? tcpTransport(),
    db: options.data ? undefined : new MemoryLevel({ valueEncoding: 'utf8' }),
  })
  for (const block of options.preload ?? []) await node.store.append(block)
  await node.start()
  return node
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** The round `node` starts next: resolves with its number right after the previous one ended. */
export const nextRound = (node: ChronosNode) =>
  new Promise<number>((resolve) => {
    const done = () => {
      node.gossip.off('empty', done).off('confirmed', done)
      resolve(node.gossip.currentRound)
    }
    node.gossip.on('empty', done).on('confirmed', done)
  })

/**
 * Resolves when `predicate` holds, re-checking after every head change and
 * round end on any node; rejects after `timeoutMs` (a generous bound, not
 * a measurement).
 */
export function until(
  nodes: readonly ChronosNode[],
  predicate: () => boolean,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<void> {
  return new Promise((resolve, reject) => {
    const offs: (() => void)[] = []
    const finish = (error?: Error) => {
      clearTimeout(timer)
      for (const off of offs) off()
      error ? reject(error) : resolve()
    }
    const check = () => {
      if (predicate()) finish()
    }
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), timeoutMs)
    for (const node of nodes) {
      offs.push(node.store.onHead(check))
      node.gossip.on('empty', check)
      node.gossip.on('confirmed', check)
      offs.push(() => node.gossip.off('empty', check).off('confirmed', check))
    }
    check()
  })
}

/** Rounds ending on `node`, counted: resolves after `count` of them. */
export function rounds(node: ChronosNode, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0
    const tick = () => {
      if (++seen < count) return
      node.gossip.off('empty', tick).off('confirmed', tick)
      resolve()
    }
    node.gossip.on('empty', tick).on('confirmed', tick)
  })
}

export const heads = (nodes: readonly ChronosNode[]) =>
  new Set(nodes.map((n) => n.store.head().block_header.hash))

export const oneHead = (nodes: readonly ChronosNode[]) => heads(nodes).size === 1

/** Hashes of a node's chain above `height`, lowest first. */
export async function chainAbove(node: ChronosNode, height: number): Promise<string[]> {
  const hashes: string[] = []
  for await (const block of node.store.blocks(height + 1)) hashes.push(block.block_header.hash)
  return hashes
}

export { compareChains }
