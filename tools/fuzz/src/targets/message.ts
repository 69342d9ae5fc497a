/**
 * Target: one message body, arbitrary bytes, through the codec's parser and
 * validation. Oracle: a body either decodes or fails with a typed codec error
 * of a known code; a decoded message re-encodes to a fixpoint (encode, decode,
 * encode gives the same text) and frames and unframes to itself; a block in
 * NEW_BLOCK or PUSH_BLOCK gets a verdict from the block checks (ok, or one
 * of the typed malformed reasons), never an exception.
 */
import {
  checkWellFormed,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  MessageDecoder,
  verifyBlockHashes,
} from '@chronos/codec'
import { check, expectTyped } from '../finding.js'

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
  }
}
