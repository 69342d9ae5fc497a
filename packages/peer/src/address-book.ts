/**
 * Addresses learned from peers (PROTOCOL.md section 13), kept apart from
 * configured peers: claims, not facts, until our own dial proves them.
 * Bounded (1,024 entries, 16 per source by default), an entry learned from
 * others never displaces a verified one, entries that keep failing are
 * forgotten, and every change is written through to optional storage so a
 * restarted node finds peers again.
 */
import type { PeerEntry, Service } from '@chronos/codec'

export interface AddressBookLimits {
  /** Entries held. Default 1,024. */
  maxEntries: number
  /** Unverified entries from any one source (the peer that told us). Default 16. */
  maxPerSource: number
  /** Consecutive failed dials before an entry is forgotten. Default 3. */
  maxFailures: number
  /** A failed entry is not dialed again for this long (doubling per failure). Default 30 s. */
  retryAfterMs: number
}

export const DEFAULT_ADDRESS_BOOK_LIMITS: AddressBookLimits = {
  maxEntries: 1_024,
  maxPerSource: 16,
  maxFailures: 3,
  retryAfterMs: 30_000,
}

/** Where the book persists: a LevelDB sublevel in the node, nothing in tests. */
export interface AddressBookStorage {
  entries(): AsyncIterable<[string, string]> | Iterable<[string, string]>
  put(address: string, record: string): Promise<unknown>
  del(address: string): Promise<unknown>
}

/** One address we could dial. `source` is the peer that told us, or `verified` once we reached it. */
export interface BookEntry {
  address: string
  key: string | undefined
  source: string
  verified: boolean
  failures: number
  /** Unix ms of the last failed dial (0 if none). */
  failedAt: number
}

export type BookEvent = 'learned' | 'dialed' | 'verified' | 'forgotten'

export class AddressBook implements Service {
  private readonly entries = new Map<string, BookEntry>()
  private readonly perSource = new Map<string, number>()
  readonly limits: AddressBookLimits

  constructor(
    limits: Partial<AddressBookLimits> = {},
    private readonly storage?: AddressBookStorage,
    private readonly now: () => number = Date.now,
    /** Counts what happens to entries (metrics). */
    private readonly onEvent: (event: BookEvent, count: number) => void = () => {},
  ) {
    this.limits = { ...DEFAULT_ADDRESS_BOOK_LIMITS, ...limits }
  }

  get size(): number {
    return this.entries.size
  }

  /** Sources with unverified entries in the book: bounded by the entries themselves. */
  get sources(): number {
    return this.perSource.size
  }

  /** As a `Service`: loads what storage kept, so dialing from it starts with the peers. */
  start(): Promise<void> {
    return this.load()
  }

  /** Every change is written as it happens: nothing to flush. */
  async stop(): Promise<void> {}

  /** Reads what storage kept; records that do not parse are dropped. */
  async load(): Promise<void> {
    if (!this.storage) return
    for await (const [address, record] of this.storage.entries()) {
      try {
        const entry = JSON.parse(record) as BookEntry
        if (entry.address !== address || this.entries.size >= this.limits.maxEntries) continue
        this.insert(entry)
      } catch {
        void this.storage.del(address).catch(() => {})
      }
    }
  }

  has(address: string): boolean {
    return this.entries.has(address)
  }

  get(address: string): BookEntry | undefined {
    return this.entries.get(address)
  }

  /** Takes the PEERS answer of `source`. Returns how many entries were new. */
  learn(
    peers: readonly PeerEntry[],
    source: string,
    isUsable: (address: string) => boolean,
  ): number {
    let added = 0
    for (const { address, key } of peers) {
      if (!isUsable(address)) continue
      const known = this.entries.get(address)
      if (known) {
        // A claim never rewrites what we verified ourselves.
        if (!known.verified && key !== undefined && known.key === undefined) {
          known.key = key
          this.persist(known)
        }
        continue
      }
      if ((this.perSource.get(source) ?? 0) >= this.limits.maxPerSource) break
      if (this.entries.size >= this.limits.maxEntries && !this.evictUnverified()) break
      this.insert({ address, key, source, verified: false, failures: 0, failedAt: 0 })
      added++
    }
    if (added) this.onEvent('learned', added)
    return added
  }

  /** Our own handshake reached `address` (proving `key`, if any): the entry is a fact now. */
  verified(address: string, key: string | undefined): void {
    const known = this.entries.get(address)
    if (known?.verified && known.key === key && known.failures === 0) return
    if (known) this.remove(known)
    else if (this.entries.size >= this.limits.maxEntries && !this.evictUnverified()) return
    this.insert({ address, key, source: 'verified', verified: true, failures: 0, failedAt: 0 })
    this.onEvent('verified', 1)
  }

  /** We are dialing `address` from the book. */
  dialing(address: string): void {
    if (this.entries.has(address)) this.onEvent('dialed', 1)
  }

  /** A dial of `address` failed; after `maxFailures` in a row the entry is forgotten. */
  failed(address: string): void {
    const entry = this.entries.get(address)
    if (!entry) return
    entry.failures++
    entry.failedAt = this.now()
    if (entry.failures >= this.limits.maxFailures) {
      this.remove(entry)
      this.onEvent('forgotten', 1)
      return
    }
    this.persist(entry)
  }

  /**
   * Up to `count` addresses worth dialing now, verified ones first, then
   * by fewest failures, at random among equals; `skip` rules out
   * addresses we are connected or dialing to.
   */
  candidates(count: number, skip: (address: string) => boolean): BookEntry[] {
    const now = this.now()
    const ready = [...this.entries.values()].filter(
      (e) =>
        !skip(e.address) &&
        (e.failures === 0 || now - e.failedAt >= this.limits.retryAfterMs * 2 ** (e.failures - 1)),
    )
    for (let i = ready.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[ready[i], ready[j]] = [ready[j]!, ready[i]!]
    }
    ready.sort((a, b) => Number(b.verified) - Number(a.verified) || a.failures - b.failures)
    return ready.slice(0, count)
  }

  private insert(entry: BookEntry): void {
    this.entries.set(entry.address, entry)
    if (!entry.verified)
      this.perSource.set(entry.source, (this.perSource.get(entry.source) ?? 0) + 1)
    this.persist(entry)
  }

  private remove(entry: BookEntry): void {
    this.entries.delete(entry.address)
    if (!entry.verified) {
      const left = (this.perSource.get(entry.source) ?? 1) - 1
      if (left > 0) this.perSource.set(entry.source, left)
      else this.perSource.delete(entry.source)
    }
    void this.storage?.del(entry.address).catch(() => {})
  }

  /** Makes room by dropping the unverified entry with the most failures (the oldest among equals). */
  private evictUnverified(): boolean {
    let victim: BookEntry | undefined
    for (const entry of this.entries.values())
      if (!entry.verified && (!victim || entry.failures > victim.failures)) victim = entry
    if (!victim) return false
    this.remove(victim)
    return true
  }

  private persist(entry: BookEntry): void {
    // A write after the database closed (shutdown) is simply lost: the book is a cache.
    void this.storage?.put(entry.address, JSON.stringify(entry)).catch(() => {})
  }
}
