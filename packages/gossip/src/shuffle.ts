/**
 * Partial Fisher-Yates: reorders `items` in place so that its first `k`
 * entries are a uniform random choice of k of them (in random order), at
 * the cost of k swaps. Returns `items`. `random` returns [0, 1).
 */
export function chooseFirst<T>(items: T[], k: number, random: () => number = Math.random): T[] {
  const take = Math.max(0, Math.min(k, items.length))
  for (let i = 0; i < take; i++) {
    // Clamp: a `random` that returns 1 (out of contract) must not index past the end.
    const j = Math.min(items.length - 1, i + Math.floor(random() * (items.length - i)))
    const picked = items[j]!
    items[j] = items[i]!
    items[i] = picked
  }
  return items
}
