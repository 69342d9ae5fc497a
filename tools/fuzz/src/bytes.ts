/**
 * Reads decisions out of a fuzzer's input, front to back. Past the end every
 * read returns zero, so any input (even empty) is a complete program: the
 * fuzzer learns which bytes steer which choice through coverage alone.
 */
export class ByteSource {
  private at = 0

  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.at
  }

  byte(): number {
    return this.at < this.bytes.length ? this.bytes[this.at++]! : 0
  }

  /** An integer in [0, max], using as few bytes as max needs. */
  int(max: number): number {
    if (max <= 0) return 0
    let value = 0
    for (let span = max; span > 0; span = Math.floor(span / 256)) value = value * 256 + this.byte()
    return value % (max + 1)
  }

  bool(): boolean {
    return (this.byte() & 1) === 1
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length - 1)]!
  }

  take(n: number): Uint8Array {
    const out = this.bytes.subarray(this.at, Math.min(this.bytes.length, this.at + n))
    this.at += out.length
    return out
  }

  rest(): Uint8Array {
    return this.take(this.remaining)
  }
}
