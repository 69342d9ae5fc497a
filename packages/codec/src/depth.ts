/**
 * Nesting depth of JSON text, measured before it is parsed (PROTOCOL.md
 * section 3): a body nested millions deep costs memory and stack inside
 * JSON.parse, before any schema could refuse it.
 */
import { MAX_NESTING_DEPTH } from './constants.js'
import { exceedsDepthWasm } from './depth-wasm.js'
import { NestingTooDeepError } from './errors.js'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d

/**
 * Throws NESTING_TOO_DEEP when `body` nests arrays and objects deeper than
 * `maxDepth`. Text that is not JSON is left for JSON.parse to refuse.
 *
 * On bytes (a frame body, once known to be UTF-8) the scan reads the UTF-8
 * directly: every structural character is ASCII, and no byte of a multi-byte
 * sequence is, so the bytes nest exactly as the text does; a byte loop costs
 * less than reading the UTF-16 text, and in WebAssembly (depth-wasm.ts) less
 * again. On text (a WebSocket message), strings
 * are skipped with native `indexOf`.
 */
export function checkNestingDepth(body: string | Uint8Array, maxDepth = MAX_NESTING_DEPTH): void {
  if (typeof body === 'string') checkTextDepth(body, maxDepth)
  else checkBytesDepth(body, maxDepth)
}

function checkTextDepth(text: string, maxDepth: number): void {
  let depth = 0
  const length = text.length
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      i = endOfString(text, i)
      if (i < 0) return
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) throw new NestingTooDeepError(maxDepth)
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
    }
  }
}

/** Index of the quote that closes the string opened at `open`, or -1 when there is none. */
function endOfString(text: string, open: number): number {
  let at = open
  for (;;) {
    at = text.indexOf('"', at + 1)
    if (at < 0) return -1
    let backslashes = 0
    for (let j = at - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++
    if (backslashes % 2 === 0) return at
  }
}

const OTHER = 0
const STRING = 1
const OPENS = 2
const CLOSES = 3
/** What each byte value is to the scan; most are OTHER and cost one load and one compare. */
const BYTE_CLASS = new Uint8Array(256)
BYTE_CLASS[QUOTE] = STRING
BYTE_CLASS[OPEN_BRACE] = OPENS
BYTE_CLASS[OPEN_BRACKET] = OPENS
BYTE_CLASS[CLOSE_BRACE] = CLOSES
BYTE_CLASS[CLOSE_BRACKET] = CLOSES

function checkBytesDepth(bytes: Uint8Array, maxDepth: number): void {
  const exceeds = exceedsDepthWasm(bytes, maxDepth)
  if (exceeds === true) throw new NestingTooDeepError(maxDepth)
  if (exceeds === undefined) checkBytesDepthInJs(bytes, maxDepth)
}

/** The scan in JS; exported for the property test that holds the WebAssembly one to it. */
export function checkBytesDepthInJs(bytes: Uint8Array, maxDepth: number): void {
  let depth = 0
  const length = bytes.length
  for (let i = 0; i < length; i++) {
    const kind = BYTE_CLASS[bytes[i]!]!
    if (kind === OTHER) continue
    if (kind === STRING) {
      // To the closing quote: a backslash takes the byte after it along.
      for (i++; i < length; i++) {
        const c = bytes[i]!
        if (c === QUOTE) break
        if (c === BACKSLASH) i++
      }
    } else if (kind === OPENS) {
      if (++depth > maxDepth) throw new NestingTooDeepError(maxDepth)
    } else {
      depth--
    }
  }
}
