/**
 * Frame bodies to text, refusing what is not UTF-8. Browsers (and any
 * runtime without Node's buffer module) use a fatal TextDecoder. In Node the
 * same decoder is slow on text that is not all ASCII (V8 converts such UTF-8
 * one character at a time: ~90 µs for a 64 KB block body with a few
 * non-ASCII memos, a quarter of JSON.parse's time for it), so there a body is
 * validated by `isUtf8` and converted by `transcode` (ICU, ~45 µs for the
 * same body). Both refuse exactly what the Unicode standard calls ill-formed;
 * the BOM stays, as with `ignoreBOM`.
 */
import { InvalidUtf8Error } from './errors.js'

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

interface NodeBufferModule {
  isAscii(input: Uint8Array): boolean
  isUtf8(input: Uint8Array): boolean
  transcode(
    source: Uint8Array,
    from: 'utf8',
    to: 'utf16le',
  ): { toString(encoding: 'utf16le'): string }
}

// Found at run time, never imported: the browser bundle stays free of Node built-ins.
const nodeBuffer = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:buffer') as NodeBufferModule | undefined

/** Below this, one TextDecoder call costs less than checking which way to go. */
const TRANSCODE_MIN_BYTES = 1024

export function decodeUtf8(bytes: Uint8Array): string {
  if (nodeBuffer && bytes.byteLength >= TRANSCODE_MIN_BYTES && !nodeBuffer.isAscii(bytes)) {
    if (!nodeBuffer.isUtf8(bytes)) throw new InvalidUtf8Error()
    return nodeBuffer.transcode(bytes, 'utf8', 'utf16le').toString('utf16le')
  }
  try {
    return decoder.decode(bytes)
  } catch {
    throw new InvalidUtf8Error()
  }
}
