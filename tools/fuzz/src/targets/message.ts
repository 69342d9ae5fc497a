/**
 * Target: one message body, arbitrary bytes, through the codec's parser and
 * validation. Oracle: a body either decodes or fails with a typed codec error
 * of a known code; a decoded message re-encodes to a fixpoint (encode, decode,
 * encode gives the same text) and frames and unframes to itself; a block in
 * NEW_BLOCK or PUSH_BLOCK gets a verdict from the block checks on an open
 * and on a permissioned network (ok, or one of the typed malformed reasons,
 * seal rules included), never an exception, and the two checks agree where
 * the rules do; a SHAKEHAND's identity members (1.1) get a proof verdict
 * (true or false), never an exception.
 */
import {
  type BlockRules,
  blockEnvelopeBytes,
  checkWellFormed,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  handshakeTranscript,
  MessageDecoder,
  readNetworkParams,
  verifyBlock,
  verifyBlockHashes,
  verifyHeaderHash,
  verifySignature,
} from '@chronos/codec'
import { check, expectTyped } from '../finding.js'
import { genesisBlocks } from '../vectors.js'

/** The vectors' open network and, when the vectors have one, their permissioned network. */
const RULES: readonly BlockRules[] = genesisBlocks().map((g) => ({
  network: readNetworkParams(g),
}))

const DECODE_CODES = new Set([
  'INVALID_UTF8',
  'INVALID_JSON',
  'NOT_AN_OBJECT',
  'UNKNOWN_CODE',
  'INVALID_DATA',
  'NESTING_TOO_DEEP',
])

function verdict(run: () => { ok: boolean; reason?: string }, where: string): void {
  let result: { ok: boolean; reason?: string }
  try {
    result = run()
  } catch (error) {
    expectTyped(error, where)
    return
  }
  check(result.ok || typeof result.reason === 'string', `${where}: a failed check names no reason`)
}

export function fuzz(data: Uint8Array): void {
  let message: ReturnType<typeof decodeMessage>
  try {
    message = decodeMessage(data)
  } catch (error) {
    expectTyped(error, 'decodeMessage', DECODE_CODES)
    return
  }
  const text = encodeMessage(message)
  const again = decodeMessage(text)
  check(encodeMessage(again) === text, `${message.code}: encode/decode is not a fixpoint`)

  let frame: Uint8Array | undefined
  try {
    frame = encodeFrame(message)
  } catch (error) {
    // A body over 8 MiB cannot arrive in an input this small; anything else is a finding.
    expectTyped(error, 'encodeFrame', new Set(['FRAME_TOO_LARGE']))
  }
  if (frame) {
    const out: string[] = []
    new MessageDecoder().push(frame, (m) => out.push(encodeMessage(m)))
    check(out.length === 1 && out[0] === text, `${message.code}: frame does not decode to itself`)
  }

  if ((message.code === 'NEW_BLOCK' || message.code === 'PUSH_BLOCK') && message.data) {
    const block = message.data
    verdict(() => checkWellFormed(block), 'checkWellFormed')
    verdict(() => verifyBlockHashes(block), 'verifyBlockHashes')
    for (const rules of RULES) {
      verdict(() => verifyBlock(block, rules), `verifyBlock(${rules.network.network})`)
      verdict(() => checkWellFormed(block, rules), `checkWellFormed(${rules.network.network})`)
      const result = verifyBlock(block, rules)
      // The cheap first step can never pass a block the full check fails on its hash.
      if (!verifyHeaderHash(block.block_header))
        check(
          !result.ok &&
            (result.reason === 'HASH_MISMATCH' || result.reason === 'NOT_CANONICALIZABLE'),
          `verifyBlock passed a block whose header hash does not recompute (${result.ok || result.reason})`,
        )
      if (result.ok) check(blockEnvelopeBytes(result.block) > 0, 'a verified block weighs nothing')
    }
  }

  if (message.code === 'SHAKEHAND') {
    const status = message.data as Record<string, unknown>
    if (typeof status.key === 'string' && typeof status.proof === 'string') {
      const fields = {
        genesis: String(status.genesis ?? ''),
        clientKey: status.key,
        clientNonce: String(status.nonce ?? ''),
        clientAddress: String(status.address),
        serverKey: status.key,
        serverNonce: String(status.nonce ?? ''),
        serverAddress: String(status.address),
      }
      for (const role of ['server', 'client'] as const) {
        const ok = verifySignature(status.key, handshakeTranscript(role, fields), status.proof)
        check(typeof ok === 'boolean', 'verifySignature returned a non-boolean')
      }
    }
  }
}
