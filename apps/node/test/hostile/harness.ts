// One real node (TCP on loopback, LevelDB in a temp dir) set up for hostile inputs, with the
// handles a case needs: raw connections in both directions and the typed reason of each close.
import type { Block } from '@chronos/codec'
import { BufferBudget, type CloseInfo, tcpTransport } from '@chronos/transport'
import { pino } from 'pino'
import { ChronosNode, resolveConfig } from '../../src/index.js'
import { transportOptions } from '../../src/node.js'
import { tempDir } from '../network.js'
import type { Ends } from './attacks.js'
import { ObservedTransport } from './observed-transport.js'
import { RawPeer } from './raw-peer.js'

export interface HostileContext {
  node: ChronosNode
  genesis: Block
  /** A fresh raw connection; with `handshake`, it has exchanged SHAKEHANDs as a peer at a unique address. */
  open(options?: { handshake?: boolean; local?: string }): Promise<RawPeer>
  /** Makes the node dial a fresh raw server; resolves once the node's SHAKEHAND has arrived. */
  dialedBy(): Promise<RawPeer>
  status(overrides?: Record<string, unknown>): Record<string, unknown>
  /** Why the node closed its connection to `peer` (typed), or undefined if it stayed open. */
  closeOf(peer: Ends, timeoutMs?: number): Promise<CloseInfo | undefined>
  maxBodyBytes: number
}

export interface HostileNodeOptions {
  genesis: Block
  preload?: readonly Block[]
  produce?: boolean
  peers?: string[]
  txRate?: number
  limits?: Record<string, number>
}

export interface HostileNode {
  node: ChronosNode
  /** The node's transport budget of bytes buffered across connections. */
  budget: BufferBudget
  context: HostileContext
  stop(): Promise<void>
}

let nextPort = 1

/** A Status address no other connection of this process has claimed (raw peers and attacker hosts alike). */
export const claimAddress = () => `127.0.0.1:${++nextPort}`

export async function hostileNode(options: HostileNodeOptions): Promise<HostileNode> {
  const dir = tempDir('chronos-hostile-')
  const limits = {
    maxBodyBytes: 1024 * 1024,
    frameTimeoutMs: 500,
    handshakeTimeoutMs: 1000,
    requestTimeoutMs: 1000,
    banMs: 1000,
    reconnectMaxMs: 60_000,
    maxInboundPerHost: 64,
    ...options.limits,
  }
  const config = resolveConfig(
    {},
    {
      data: dir.path,
      genesis: '(in memory)',
      listen: '127.0.0.1:0',
      peers: options.peers ?? [],
      produce: options.produce ?? false,
      txRate: options.txRate ?? 0,
      limits,
    },
  )
  const budget = new BufferBudget(config.limits.maxBufferedBytes)
  const transport = new ObservedTransport(
    // The node's own transport options; the budget is shared with the harness, so it wins.
    tcpTransport({ ...transportOptions(config.limits), bufferBudget: budget }),
  )
  const node = await ChronosNode.open({
    config,
    genesis: options.genesis,
    logger: pino({ level: 'silent' }),
    transport,
  })
  if (options.preload?.length) await node.store.appendMany(options.preload)
  await node.start()
  const genesis = options.genesis
  const context: HostileContext = {
    node,
    genesis,
    maxBodyBytes: config.limits.maxBodyBytes,
    // Each hostile connection claims its own address, so penalties of one case never ban the next.
    status: (overrides = {}) => {
      const status: Record<string, unknown> = {
        timestamp: Date.now(),
        height: 0,
        address: `127.0.0.1:${nextPort}`,
        genesis: genesis.block_header.hash,
        ...overrides,
      }
      for (const key of Object.keys(status)) if (status[key] === undefined) delete status[key]
      return status
    },
    async open(openOptions = {}) {
      // Taken now: opens run concurrently, and each must claim its own address.
      const address = claimAddress()
      const peer = await RawPeer.connect(node.address, openOptions.local)
      peer.claimed = address
      if (openOptions.handshake) {
        peer.send({ code: 'SHAKEHAND', data: context.status({ address }) })
        if (!(await peer.next('SHAKEHAND'))) throw new Error('handshake refused')
      }
      return peer
    },
    async dialedBy() {
      nextPort++
      const { address, accepted } = await RawPeer.listen()
      node.peers.connect(address)
      const server = await accepted
      if (!(await server.next('SHAKEHAND'))) throw new Error('the node did not send SHAKEHAND')
      return server
    },
    closeOf: (peer, timeoutMs) => transport.closeOf(peer, timeoutMs),
  }
  return {
    node,
    budget,
    context,
    async stop() {
      await node.stop()
      dir.remove()
    },
  }
}
