import type { Status } from '@chronos/codec'
import type { ClientSession } from './client-session.js'
import { KnownSet } from './known-set.js'
import type { ServerSession } from './server-session.js'

/** The feature an observer (the bridge) lists: nodes keep it out of gossip fan-out and peer counts. */
export const FEATURE_OBSERVER = 'observer'

/**
 * A remote node. One that proved a key (PROTOCOL.md section 11) is that
 * key; one that proved nothing is the address in its Status (section 9).
 * The connection we dialed to it and the ones it dialed to us share one
 * known set.
 */
export class Peer {
  readonly known: KnownSet
  /** Our Client session to it: the only way we send it requests, blocks and hashes. */
  outbound: ClientSession | undefined
  /** Its Client sessions to us (normally one). */
  readonly inbound = new Set<ServerSession>()
  /** The newest Status it sent, on either connection. */
  status: Status | undefined
  /** When it last gave us something we did not have (a new block): its merit for an outbound slot. */
  lastDeliveryAt = 0
  /** When our outbound session to it became ready. */
  outboundSince = 0

  constructor(
    /** Its identity: the proven key, else its Status address. */
    readonly id: string,
    /** Where it accepts connections (its Status address). */
    public address: string,
    /** The key it proved, if any. */
    readonly key: string | undefined,
    knownSetSize: number,
  ) {
    this.known = new KnownSet(knownSetSize)
  }

  get proven(): boolean {
    return this.key !== undefined
  }

  /** True when we can send it requests: our outbound session finished its handshake and is open. */
  get ready(): boolean {
    return this.outbound?.open === true && this.outbound.remoteStatus !== undefined
  }

  get connected(): boolean {
    return this.outbound !== undefined || this.inbound.size > 0
  }

  /** Its latest Status lists `feature`. */
  offers(feature: string): boolean {
    return this.status?.features?.includes(feature) === true
  }

  /** An observer watches the network; it does not relay or produce. */
  get observer(): boolean {
    return this.offers(FEATURE_OBSERVER)
  }

  /** Gossip or sync got a new block from it. */
  credit(now = Date.now()): void {
    this.lastDeliveryAt = now
  }
}
