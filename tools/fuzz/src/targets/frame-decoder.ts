/**
 * Target: the frame decoder fed one byte stream cut at fuzzer-chosen places.
 * Oracle: cutting must not matter. The same bytes pushed whole and pushed in
 * pieces yield the same bodies and the same first error; errors are typed
 * codec errors; after an error every push throws it again (the decoder is
 * poisoned); what it buffers never exceeds one body, one header and the chunk
 * in hand. The MessageDecoder on top must agree with decodeMessage per body.
 */
import { decodeMessage, FrameDecoder, MessageDecoder } from '@chronos/codec'
import { ByteSource } from '../bytes.js'
import { check, expectTyped } from '../finding.js'

const FRAME_CODES = new Set(['FRAME_TOO_LARGE', 'FRAME_EMPTY', 'FRAME_TRUNCATED'])
const MESSAGE_CODES = new Set([
  ...FRAME_CODES,
  'INVALID_UTF8',
  'INVALID_JSON',
  'NOT_AN_OBJECT',
  'UNKNOWN_CODE',
  'INVALID_DATA',
  'NESTING_TOO_DEEP',
])

interface Outcome {
  bodies: string[]
  error: string | undefined
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

function decodeFrames(stream: Uint8Array, cuts: readonly number[], maxBodyBytes: number): Outcome {
  const decoder = new FrameDecoder({ maxBodyBytes })
  const bodies: string[] = []
  let from = 0
  for (const to of [...cuts, stream.length]) {
    const chunk = stream.subarray(from, to)
    from = to
    try {
      decoder.push(chunk, (body) => bodies.push(hex(body)))
    } catch (error) {
      expectTyped(error, 'FrameDecoder.push', FRAME_CODES)
      let again: unknown
      try {
        decoder.push(new Uint8Array([0]), () => check(false, 'a poisoned decoder delivered a body'))
      } catch (e) {
        again = e
      }
      check(again === error, 'a poisoned decoder must rethrow its first error')
      return { bodies, error: error.code }
    }
    check(
      decoder.bufferedBytes <= maxBodyBytes + 4 + chunk.length,
      `decoder holds ${decoder.bufferedBytes} bytes, over one body + header + chunk`,
    )
  }
  try {
    decoder.end()
  } catch (error) {
    expectTyped(error, 'FrameDecoder.end', FRAME_CODES)
    return { bodies, error: error.code }
  }
  return { bodies, error: undefined }
}

/** The messages and first error of the stream through MessageDecoder, cut the same way. */
function decodeMessages(stream: Uint8Array, cuts: readonly number[], maxBodyBytes: number) {
  const decoder = new MessageDecoder({ maxBodyBytes })
  const messages: string[] = []
  let from = 0
  for (const to of [...cuts, stream.length]) {
    try {
      decoder.push(stream.subarray(from, to), (m) => messages.push(JSON.stringify(m)))
    } catch (error) {
      expectTyped(error, 'MessageDecoder.push', MESSAGE_CODES)
      return { messages, error: error.code }
    }
    from = to
  }
  try {
    decoder.end()
  } catch (error) {
    expectTyped(error, 'MessageDecoder.end', MESSAGE_CODES)
    return { messages, error: error.code }
  }
  return { messages, error: undefined as string | undefined }
}

export function fuzz(data: Uint8Array): void {
  const source = new ByteSource(data)
  // A small limit keeps FRAME_TOO_LARGE reachable without megabyte inputs.
  const maxBodyBytes = 1 + source.int(4095)
  const cutCount = source.int(15)
  const cutSeeds = Array.from({ length: cutCount }, () => source.int(65535))
  const stream = source.rest()
  const cuts = cutSeeds.map((c) => c % (stream.length + 1)).sort((a, b) => a - b)

  const whole = decodeFrames(stream, [], maxBodyBytes)
  const pieces = decodeFrames(stream, cuts, maxBodyBytes)
  check(
    whole.error === pieces.error,
    `first error differs with cuts: ${whole.error} whole vs ${pieces.error} at ${cuts}`,
  )
  check(
    whole.bodies.join() === pieces.bodies.join(),
    `bodies differ with cuts at ${cuts}: ${whole.bodies.length} whole vs ${pieces.bodies.length}`,
  )

  // Messages: body by body through decodeMessage must match the streaming decoder.
  const expected: string[] = []
  let expectedError = whole.error
  for (const body of whole.bodies) {
    try {
      expected.push(JSON.stringify(decodeMessage(Buffer.from(body, 'hex'))))
    } catch (error) {
      expectTyped(error, 'decodeMessage', MESSAGE_CODES)
      expectedError = error.code
      break
    }
  }
  const streamed = decodeMessages(stream, cuts, maxBodyBytes)
  check(
    streamed.messages.join('\n') === expected.join('\n'),
    `MessageDecoder delivered ${streamed.messages.length} messages, decodeMessage ${expected.length}`,
  )
  check(
    streamed.error === expectedError,
    `MessageDecoder error ${streamed.error}, expected ${expectedError}`,
  )
}
