/**
 * Nesting depth of JSON text, measured before it is parsed (PROTOCOL.md
 * section 3): a body nested millions deep costs memory and stack inside
 * JSON.parse, before any schema could refuse it.
 */
import { MAX_NESTING_DEPTH } from './constants.js'
import { NestingTooDeepError } from './errors.js'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d

/**
 * Throws NESTING_TOO_DEEP when `text` nests arrays and objects deeper than
 * `maxDepth`. Strings are skipped with native `indexOf`, so the scan costs
 * little next to the parse it guards (block bodies are mostly strings).
 * Text that is not JSON is left for JSON.parse to refuse.
 */
export function checkNestingDepth(text: string, maxDepth = MAX_NESTING_DEPTH): void {
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
