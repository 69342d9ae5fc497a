/**
 * The node's key file (PROTOCOL.md section 11): an Ed25519 seed kept in
 * the data directory, created on first start, readable only by its owner,
 * and plain JSON so an operator can see which public key it holds.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { generateNodeKey, type NodeKey, nodeKeyFromSeed } from '@chronos/codec'
import { z } from 'zod'

export const NODE_KEY_FILE = 'node-key.json'
export const NODE_KEY_TYPE = 'chronos/ed25519'

const keyFileSchema = z.object({
  type: z.literal(NODE_KEY_TYPE),
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  seed: z.string().regex(/^[0-9a-f]{64}$/),
})

/** A key file that cannot be used: names the file and what is wrong with it. */
export class KeyFileError extends Error {
  readonly code = 'INVALID_KEY_FILE'
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`key file ${path}: ${problem}`)
  }
}

/** Reads a key file; its public key must match its seed. */
export function readKeyFile(path: string): NodeKey {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new KeyFileError(path, (error as Error).message)
  }
  const file = keyFileSchema.safeParse(parsed)
  if (!file.success)
    throw new KeyFileError(
      path,
      `expected {"type":"${NODE_KEY_TYPE}","publicKey":<hex>,"seed":<hex>}`,
    )
  const key = nodeKeyFromSeed(file.data.seed)
  if (key.publicKey !== file.data.publicKey)
    throw new KeyFileError(path, 'publicKey does not belong to seed')
  return key
}

/** Writes a new key file (mode 0600); refuses to overwrite one. */
export function createKeyFile(path: string): NodeKey {
  if (existsSync(path)) throw new KeyFileError(path, 'exists already; refusing to overwrite a key')
  const key = generateNodeKey()
  mkdirSync(dirname(path), { recursive: true })
  const text = `${JSON.stringify({ type: NODE_KEY_TYPE, publicKey: key.publicKey, seed: key.seed }, null, 2)}\n`
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' })
  chmodSync(path, 0o600)
  return nodeKeyFromSeed(key.seed)
}

/** The key at `path`, created there on first use. */
export function loadOrCreateKeyFile(path: string): NodeKey {
  return existsSync(path) ? readKeyFile(path) : createKeyFile(path)
}
