// Node keys for simulated networks: node i of seed s always has the same key,
// derived from (s, i), and each is made once per process. The gossip and the
// flooding run of one size, and every size after it, reuse the same keys
// (10,000 Ed25519 key pairs cost ~1 s of CPU per run otherwise), and a run
// repeats exactly: no decision depends on a key drawn at random.
//
// What a node does with its key is unchanged: it signs every handshake
// itself, and its peers verify every proof.
import { createHash } from 'node:crypto'
import { type NodeKey, nodeKeyFromSeed } from '@chronos/codec'

const bySeed = new Map<number, NodeKey[]>()

/** The keys of nodes 0 … count-1 of a simulation seeded `seed`. */
export function simulatedNodeKeys(seed: number, count: number): readonly NodeKey[] {
  const keys = bySeed.get(seed) ?? []
  bySeed.set(seed, keys)
  for (let i = keys.length; i < count; i++)
    keys.push(
      nodeKeyFromSeed(createHash('sha256').update(`chronos-simulation/${seed}/${i}`).digest('hex')),
    )
  return keys
}
