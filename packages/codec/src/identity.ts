/**
 * Node identity and block seals (PROTOCOL.md sections 11 and 12): Ed25519
 * through node:crypto, keys and signatures as lowercase hex, and the two
 * signed texts (the handshake transcript and the seal message) in JCS.
 */
import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  randomFillSync,
  sign as signBytes,
  verify as verifyBytes,
} from 'node:crypto'
import { canonicalize } from './jcs.js'
import type { Block } from './schema.js'

// DER prefixes that wrap a raw 32-byte Ed25519 seed (PKCS#8) or public key (SPKI).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const HEX_32 = /^[0-9a-f]{64}$/
const HEX_64 = /^[0-9a-f]{128}$/

/** A node's Ed25519 key pair. The secret never leaves the object except through `seed` where a caller made it. */
export interface NodeKey {
  /** 64 lowercase hex characters: the 32-byte public key (a *key* on the wire). */
  readonly publicKey: string
  /** Signs UTF-8 text or bytes; returns a *sig* (128 hex characters). Ed25519 is deterministic. */
  sign(data: string | Uint8Array): string
}

/** A generated key with its 32-byte seed (hex), to be written to a key file. */
export interface GeneratedNodeKey extends NodeKey {
  readonly seed: string
}

function keyFromPrivate(privateKey: KeyObject): NodeKey {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  const publicKey = spki.subarray(spki.length - 32).toString('hex')
  return {
    publicKey,
    sign: (data) => signBytes(null, toBytes(data), privateKey).toString('hex'),
  }
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data
}

/** The key pair of a 32-byte seed given as 64 hex characters (RFC 8032's private key). */
export function nodeKeyFromSeed(seedHex: string): NodeKey {
  if (!HEX_32.test(seedHex)) throw new RangeError('an Ed25519 seed is 64 lowercase hex characters')
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(seedHex, 'hex')])
  return keyFromPrivate(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }))
}

/** A fresh random key pair. */
export function generateNodeKey(): GeneratedNodeKey {
  const seed = randomBytes(32).toString('hex')
  return { ...nodeKeyFromSeed(seed), seed }
}

// Verifying parses the public key into a KeyObject; a handful of keys sign
// nearly everything (producers, peers), so recent ones are kept. Keys are a
// peer's choice, so the cache is bounded and evicts the oldest.
const DEFAULT_PUBLIC_KEY_CACHE_SIZE = 256
let publicKeyCacheSize = DEFAULT_PUBLIC_KEY_CACHE_SIZE
const publicKeys = new Map<string, KeyObject>()

/**
 * How many parsed public keys `verifySignature` keeps (default 256, a node's
 * peers and producers many times over). Simulations only: thousands of nodes
 * in one process share this one cache, and at 10,000 nodes 256 keys hit
 * almost never (each verify then parses its key again, 2/3 of its cost).
 * What verifies is unchanged; only the parsing is saved. Returns the previous size.
 */
export function setPublicKeyCacheSize(entries: number): number {
  if (!Number.isInteger(entries) || entries < 1)
    throw new RangeError('the public key cache holds a positive whole number of keys')
  const previous = publicKeyCacheSize
  publicKeyCacheSize = entries
  while (publicKeys.size > publicKeyCacheSize)
    publicKeys.delete(publicKeys.keys().next().value as string)
  return previous
}

/** Parsed public keys held now (for tests of the bound). */
export function publicKeyCacheEntries(): number {
  return publicKeys.size
}

function publicKeyObject(publicKey: string): KeyObject {
  let key = publicKeys.get(publicKey)
  if (key) return key
  const der = Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(publicKey, 'hex')])
  key = createPublicKey({ key: der, format: 'der', type: 'spki' })
  if (publicKeys.size >= publicKeyCacheSize)
    publicKeys.delete(publicKeys.keys().next().value as string)
  publicKeys.set(publicKey, key)
  return key
}

/** True when `sig` is `publicKey`'s Ed25519 signature of `data`. False for any malformed input. */
export function verifySignature(
  publicKey: string,
  data: string | Uint8Array,
  sig: string,
): boolean {
  if (!HEX_32.test(publicKey) || !HEX_64.test(sig)) return false
  try {
    return verifyBytes(null, toBytes(data), publicKeyObject(publicKey), Buffer.from(sig, 'hex'))
  } catch {
    // A 32-byte string that is not a point on the curve.
    return false
  }
}

// Nonces come from a pool of CSPRNG bytes refilled 64 nonces at a time, each
// slice handed out once (a nonce is public, it must only be fresh and
// unpredictable). Among a handshake's network work one randomBytes(32) per
// nonce cost 30-50 µs of CPU (a crypto job object and an ArrayBuffer each;
// 2.7 µs in a tight loop); a slice of the pool costs ~0.2 µs.
const NONCE_BYTES = 32
const noncePool = Buffer.alloc(NONCE_BYTES * 64)
let noncePoolUsed = noncePool.length

/** 32 fresh random bytes as 64 hex characters: a handshake nonce, never reused. */
export function createNonce(): string {
  if (noncePoolUsed === noncePool.length) {
    randomFillSync(noncePool)
    noncePoolUsed = 0
  }
  const start = noncePoolUsed
  noncePoolUsed += NONCE_BYTES
  return noncePool.toString('hex', start, noncePoolUsed)
}

export type HandshakeRole = 'server' | 'client'

/** The values of the two opening SHAKEHANDs that a handshake proof covers (section 11). */
export interface HandshakeFields {
  genesis: string
  clientKey: string
  clientNonce: string
  clientAddress: string
  serverKey: string
  serverNonce: string
  serverAddress: string
}

/** transcript(role): the JCS text both sides sign, one per role so a proof cannot be reflected. */
export function handshakeTranscript(role: HandshakeRole, fields: HandshakeFields): string {
  return canonicalize({
    chronos: 'handshake/1',
    role,
    genesis: fields.genesis,
    client_key: fields.clientKey,
    client_nonce: fields.clientNonce,
    client_address: fields.clientAddress,
    server_key: fields.serverKey,
    server_nonce: fields.serverNonce,
    server_address: fields.serverAddress,
  })
}

/** The text a producer signs to seal the block with header hash `hash` on network `genesisHash`. */
export function sealMessage(genesisHash: string, hash: string): string {
  return canonicalize({ chronos: 'seal/1', genesis: genesisHash, hash })
}

/** The block with its seal: `key`'s signature over its seal message. */
export function sealBlock(block: Block, key: NodeKey, genesisHash: string): Block {
  return { ...block, seal: key.sign(sealMessage(genesisHash, block.block_header.hash)) }
}

/** True when the block's seal is its producer's signature over its seal message. */
export function verifySeal(block: Block, genesisHash: string): boolean {
  const { seal } = block
  if (typeof seal !== 'string') return false
  return verifySignature(
    block.block_header.producer,
    sealMessage(genesisHash, block.block_header.hash),
    seal,
  )
}
