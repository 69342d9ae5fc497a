// The database of a simulated node: memory-level holding strings as strings,
// with one copy of each identical large record for the whole process.
//
// Two costs per node that a real node pays once on its own machine, but a
// process hosting 10,000 pays 10,000 times over:
// - memory-level's default store encoding is Buffer: every utf8 value (a
//   16 KB block record) was encoded to bytes on write and decoded on read.
//   Storing strings keeps them as given; the keys are ASCII (heights, hex
//   hashes, sublevel prefixes), where string order is byte order, so every
//   read and range returns what it did.
// - every node writes the same JSON of the same block. Records of at least
//   1 KiB are interned: the first node's string is kept (by content), the
//   others store a reference to it, and their own copy is garbage at once.
//   Strings are immutable, so no node can change what another reads.
import { MemoryLevel } from 'memory-level'

const INTERN_MIN_CHARS = 1024

/** Distinct large records, oldest forgotten first past `capacity` (a forgotten one is just not shared). */
export class SharedRecords {
  private readonly records = new Map<string, string>()
  constructor(private readonly capacity = 1024) {}

  intern(value: string): string {
    if (value.length < INTERN_MIN_CHARS) return value
    const known = this.records.get(value)
    if (known !== undefined) return known
    if (this.records.size >= this.capacity)
      this.records.delete(this.records.keys().next().value as string)
    this.records.set(value, value)
    return value
  }

  get size(): number {
    return this.records.size
  }
}

type BatchOperation = { type: 'put' | 'del'; key: unknown; value?: unknown }

class SimulatedLevel extends MemoryLevel<string, string> {
  constructor(private readonly shared: SharedRecords) {
    super({ keyEncoding: 'utf8', valueEncoding: 'utf8', storeEncoding: 'utf8' })
  }

  private share(value: unknown): unknown {
    return typeof value === 'string' ? this.shared.intern(value) : value
  }

  async _put(key: unknown, value: unknown, options: unknown): Promise<void> {
    // biome-ignore lint/suspicious/noExplicitAny: memory-level's private hooks are untyped here.
    return (MemoryLevel.prototype as any)._put.call(this, key, this.share(value), options)
  }

  async _batch(operations: BatchOperation[], options: unknown): Promise<void> {
    for (const op of operations) if (op.type === 'put') op.value = this.share(op.value)
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    return (MemoryLevel.prototype as any)._batch.call(this, operations, options)
  }
}

/** A fresh in-memory database for one simulated node, sharing records through `shared`. */
export function simulatedLevel(shared: SharedRecords): MemoryLevel<string, string> {
  return new SimulatedLevel(shared)
}
