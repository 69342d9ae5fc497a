import type { Status } from '@chronos/codec'
import type { ClientSession } from './client-session.js'
import { KnownSet } from './known-set.js'
import type { ServerSession } from './server-session.js'

/**
 * A remote node, identified by the address in its Status (PROTOCOL.md
 * section 9). The connection we dialed to it and the ones it dialed to us
 * share one known set.
 */
export class Peer {
  readonly known: KnownSet
  /** Our Client session to it: the only way we send it requests, blocks and hashes. */
  outbound: ClientSession | undefined
  /** Its Client sessions to us (normally one). */
  readonly inbound = new Set<ServerSession>()
  /** The newest Status it sent, on either connection. */
  status: Status | undefined

  constructor(
    readonly address: string,
    knownSetSize: number,
  ) {
    this.known = new KnownSet(knownSetSize)
  }

  /** True when we can send it requests: our outbound session finished its handshake and is open. */
  get ready(): boolean {
    return this.outbound?.open === true && this.outbound.remoteStatus !== undefined
  }

  get connected(): boolean {
    return this.outbound !== undefined || this.inbound.size > 0
  }
}
