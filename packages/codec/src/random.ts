/**
 * A seeded pseudo-random stream (mulberry32): the same seed gives the same
 * draws on every machine, so a simulation, a fault schedule or a test graph
 * can be replayed from its seed. Arithmetic only, no entropy: not for keys
 * or nonces (those use `node:crypto`).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
