/**
 * TCP framing: a big-endian uint32 body length, then the body. The decoder
 * is streaming (bytes in, bodies out) and checks the declared length against
 * its limit before it buffers a single byte of the body.
 */
import { DEFAULT_MAX_BODY_BYTES, FRAME_HEADER_BYTES } from './constants.js'
import {
  type CodecError,
  EmptyFrameError,
  FrameTooLargeError,
  TruncatedFrameError,
} from './errors.js'
import { decodeMessage, encodeMessage } from './message.js'
import type { Message } from './schema.js'

export interface FrameLimits {
  /** Largest body accepted or produced, in bytes. Default 8 MiB. */
  maxBodyBytes?: number
}

const textEncoder = new TextEncoder()

interface NodeBufferApi {
  allocUnsafe(size: number): Uint8Array & { write(text: string, offset: number): number }
  byteLength(text: string): number
}
// In Node, Buffer skips zero-filling a buffer we overwrite anyway and encodes
// in one native pass; browsers take the TextEncoder path.
const NodeBuffer = (globalThis as { Buffer?: NodeBufferApi }).Buffer

// Up to this many UTF-16 units, one pass into a worst-case buffer beats
// measuring first; above it, measuring avoids holding 3x the memory.
const SINGLE_PASS_MAX_UNITS = 64 * 1024

function frameText(text: string, maxBodyBytes: number): Uint8Array {
  // A UTF-8 body is at most 3 bytes per UTF-16 unit: allocating that bound
  // encodes in a single pass instead of measuring the length first.
  if (NodeBuffer) {
    const measured = text.length > SINGLE_PASS_MAX_UNITS ? NodeBuffer.byteLength(text) : -1
    if (measured >= 0) checkLength(measured, maxBodyBytes)
    const frame = NodeBuffer.allocUnsafe(
      FRAME_HEADER_BYTES + (measured >= 0 ? measured : text.length * 3),
    )
    const written = frame.write(text, FRAME_HEADER_BYTES)
    checkLength(written, maxBodyBytes)
    new DataView(frame.buffer, frame.byteOffset).setUint32(0, written)
    return frame.subarray(0, FRAME_HEADER_BYTES + written)
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + text.length * 3)
  const { written } = textEncoder.encodeInto(text, frame.subarray(FRAME_HEADER_BYTES))
  checkLength(written, maxBodyBytes)
  new DataView(frame.buffer).setUint32(0, written)
  return frame.subarray(0, FRAME_HEADER_BYTES + written)
}

function checkLength(length: number, maxBodyBytes: number): void {
  if (length === 0) throw new EmptyFrameError()
  if (length > maxBodyBytes) throw new FrameTooLargeError(length, maxBodyBytes)
}

/** Frames a body that is already UTF-8 bytes. */
export function frameBody(body: Uint8Array, limits: FrameLimits = {}): Uint8Array {
  checkLength(body.byteLength, limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES)
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength)
  new DataView(frame.buffer).setUint32(0, body.byteLength)
  frame.set(body, FRAME_HEADER_BYTES)
  return frame
}

/**
 * Encodes a message as one frame. Refuses (FRAME_TOO_LARGE) a message whose
 * body would be over the limit, so we never send what a peer must reject.
 */
export function encodeFrame(message: Message, limits: FrameLimits = {}): Uint8Array {
  return frameText(encodeMessage(message), limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES)
}

/**
 * Splits a byte stream into frame bodies. Feed it chunks as they arrive;
 * `push` hands each body the chunk completes to `onBody`, in order. Chunks are
 * kept by reference and joined only when a body spans several of them.
 *
 * Bodies that precede a bad frame in the same chunk are delivered before the
 * error is thrown. After an error the decoder is poisoned: the stream cannot
 * be resynchronised, so every later call throws the same error and the
 * connection must close.
 */
export class FrameDecoder {
  readonly maxBodyBytes: number
  private chunks: Uint8Array[] = []
  private head = 0 // read offset into chunks[0]
  private buffered = 0
  private bodyLength = -1 // declared length of the frame in progress, -1 before its header
  private failure: CodecError | undefined

  constructor(limits: FrameLimits = {}) {
    this.maxBodyBytes = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  }

  /** Bytes held for a frame not yet complete. Never more than one body plus one chunk. */
  get bufferedBytes(): number {
    return this.buffered
  }

  /** True between the first byte of a frame and its last: a header alone counts. */
  get midFrame(): boolean {
    return this.buffered > 0 || this.bodyLength >= 0
  }

  push(chunk: Uint8Array, onBody: (body: Uint8Array) => void): void {
    if (this.failure) throw this.failure
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.byteLength
    }
    try {
      for (;;) {
        if (this.bodyLength < 0) {
          if (this.buffered < FRAME_HEADER_BYTES) break
          const length = this.readUint32()
          checkLength(length, this.maxBodyBytes)
          this.bodyLength = length
        }
        if (this.buffered < this.bodyLength) break
        const body = this.take(this.bodyLength)
        this.bodyLength = -1
        onBody(body)
      }
    } catch (error) {
      this.fail(error as CodecError)
    }
  }

  /** Call when the stream ends: a partial frame left behind is an error. */
  end(): void {
    if (this.failure) throw this.failure
    if (this.buffered > 0 || this.bodyLength >= 0) this.fail(new TruncatedFrameError(this.buffered))
  }

  private fail(error: CodecError): never {
    this.failure = error
    this.chunks = []
    this.head = 0
    this.buffered = 0
    throw error
  }

  private readUint32(): number {
    const header = this.take(FRAME_HEADER_BYTES)
    return ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0
  }

  /** Removes `n` buffered bytes; zero-copy when they sit in one chunk. */
  private take(n: number): Uint8Array {
    this.buffered -= n
    const first = this.chunks[0]!
    const available = first.byteLength - this.head
    if (n <= available) {
      const out = first.subarray(this.head, this.head + n)
      this.head += n
      if (this.head === first.byteLength) {
        this.chunks.shift()
        this.head = 0
      }
      return out
    }
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.chunks[0]!
      const part = Math.min(n - filled, chunk.byteLength - this.head)
      out.set(chunk.subarray(this.head, this.head + part), filled)
      filled += part
      this.head += part
      if (this.head === chunk.byteLength) {
        this.chunks.shift()
        this.head = 0
      }
    }
    return out
  }
}

/** Frames in, messages out: a FrameDecoder followed by `decodeMessage` on each body. */
export class MessageDecoder {
  private readonly frames: FrameDecoder

  constructor(limits: FrameLimits = {}) {
    this.frames = new FrameDecoder(limits)
  }

  get bufferedBytes(): number {
    return this.frames.bufferedBytes
  }

  /** Delivers each message the chunk completes; throws the first CodecError after delivering those before it. */
  push(chunk: Uint8Array, onMessage: (message: Message) => void): void {
    this.frames.push(chunk, (body) => onMessage(decodeMessage(body)))
  }

  end(): void {
    this.frames.end()
  }
}
