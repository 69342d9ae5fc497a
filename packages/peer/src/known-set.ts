/**
 * The hashes a peer is known to have (PROTOCOL.md section 9), bounded:
 * when full, the hash learned longest ago is forgotten. Forgetting only
 * costs a redundant announcement later, while an unbounded set is a
 * memory leak any peer could drive.
 */
export class KnownSet {
  // A Set iterates in insertion order, so its first entry is the oldest.
  private readonly hashes = new Set<string>()

  constructor(readonly capacity = 1024) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`known-set capacity must be a positive integer, got ${capacity}`)
  }

  get size(): number {
    return this.hashes.size
  }

  has(hash: string): boolean {
    return this.hashes.has(hash)
  }

  /** Records `hash` as the newest entry, evicting the oldest when full. */
  add(hash: string): void {
    if (this.hashes.delete(hash)) {
      this.hashes.add(hash)
      return
    }
    if (this.hashes.size >= this.capacity) {
      const oldest = this.hashes.values().next().value as string
      this.hashes.delete(oldest)
    }
    this.hashes.add(hash)
  }
}
