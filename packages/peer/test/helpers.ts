// Shared by the peer tests: managers on real TCP, raw connections, events awaited.
import {
  type Block,
  createBlock,
  createGenesis,
  type Message,
  type NodeKey,
  readNetworkParams,
} from '@chronos/codec'
import { type CloseInfo, type Connection, tcpTransport } from '@chronos/transport'
import { afterEach } from 'vitest'
import {
  type Peer,
  PeerManager,
  type PeerManagerOptions,
  type ServerHandlers,
} from '../src/index.js'

export const genesis = createGenesis({
  network: 'peer-test',
  roundMs: 1000,
  timestamp: Date.now() - 60_000,
})
export const network = readNetworkParams(genesis)
export const block1 = createBlock({
  height: 1,
  prevHash: genesis.block_header.hash,
  timestamp: genesis.block_header.timestamp + 1000,
  producer: 'test',
  transactions: [{ n: 1 }],
})

const running: PeerManager[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()))
})

export interface NodeOptions extends Omit<Partial<PeerManagerOptions>, 'handlers'> {
  handlers?: Partial<ServerHandlers>
  genesisBlock?: Block
}

export async function startManager(options: NodeOptions = {}): Promise<PeerManager> {
  const g = options.genesisBlock ?? genesis
  const manager = new PeerManager({
    transport: tcpTransport(),
    listen: '127.0.0.1:0',
    network,
    chain: () => ({ height: 0, head: g.block_header.hash, genesis: g.block_header.hash }),
    ...options,
    handlers: {
      pull: (height) => (height === 0 ? g : height === 1 ? block1 : null),
      newBlock: () => {},
      newBlockHash: () => 'wanted',
      ...options.handlers,
    },
    limits: { statusIntervalMs: 200, reconnectMinMs: 50, ...options.limits },
  })
  await manager.start()
  running.push(manager)
  return manager
}

export function nextEvent<T extends unknown[]>(
  emitter: { once(event: string, listener: (...args: T) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: T) => resolve(args)))
}

/** Resolves with the peer `id` once our outbound session to it is ready. */
export async function readyPeer(manager: PeerManager, id: string): Promise<Peer> {
  for (;;) {
    const peer = manager.get(id)
    if (peer?.ready) return peer
    await nextEvent(manager, 'ready')
  }
}

/** Resolves with the first close of one of `manager`'s connections for which `match` holds. */
export function closeWhere(
  manager: PeerManager,
  match: (peer: Peer, info: CloseInfo) => boolean = () => true,
): Promise<[Peer, CloseInfo]> {
  return new Promise((resolve) => {
    const listener = (peer: Peer, info: CloseInfo) => {
      if (!match(peer, info)) return
      manager.off('disconnect', listener)
      resolve([peer, info])
    }
    manager.on('disconnect', listener)
  })
}

/** A raw Client connection to `manager`, for sending what an honest node would not. */
export function rawClient(manager: PeerManager): Promise<Connection> {
  return tcpTransport().dial(manager.address)
}

export function receive(connection: Connection): Promise<Message> {
  return new Promise((resolve) => connection.once('message', resolve))
}

export const status = (address = '127.0.0.1:1', g: Block = genesis) => ({
  timestamp: Date.now(),
  height: 0,
  address,
  head: g.block_header.hash,
  genesis: g.block_header.hash,
})

export type { NodeKey }
