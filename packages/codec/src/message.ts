/**
 * One message body <-> one message. Decoding runs the checks in order of
 * cost (UTF-8, nesting depth, JSON, envelope, then the schema of `data`)
 * and reports the first failure as a typed CodecError.
 */
import type { z } from 'zod'
import { acceptBlock } from './block-shape.js'
import type { MessageCode } from './constants.js'
import { checkNestingDepth } from './depth.js'
import { InvalidDataError, InvalidJsonError, NotAnObjectError, UnknownCodeError } from './errors.js'
import { dataSchemas, type Message } from './schema.js'
import { decodeUtf8 } from './utf8.js'

const hasOwn = Object.prototype.hasOwnProperty

/** Renders a zod issue path the way a reader of the message would write it: `data.block_header.height`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = 'data'
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`
  return out
}

function firstIssue(error: z.ZodError): { path: string; problem: string } {
  const issue = error.issues[0]
  return issue
    ? { path: formatPath(issue.path), problem: issue.message }
    : { path: 'data', problem: 'invalid' }
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** Validates a parsed envelope. Members other than `code` and `data` are ignored. */
export function messageFromJson(value: unknown): Message {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new NotAnObjectError(jsonKind(value))
  }
  const envelope = value as { code?: unknown; data?: unknown }
  const code = envelope.code
  if (typeof code !== 'string' || !hasOwn.call(dataSchemas, code)) {
    throw new UnknownCodeError(code)
  }
  // The messages that carry blocks, where validation costs: a valid block is
  // recognised without zod; anything else goes to the schema, which words the error.
  if (code === 'NEW_BLOCK' || (code === 'PUSH_BLOCK' && envelope.data !== null)) {
    const block = acceptBlock(envelope.data)
    if (block !== undefined) return { code, data: block }
  }
  const schema = dataSchemas[code as MessageCode]
  const parsed = schema.safeParse(envelope.data)
  if (!parsed.success) {
    const { path, problem } = firstIssue(parsed.error)
    throw new InvalidDataError(code, path, problem)
  }
  return { code, data: parsed.data } as Message
}

/** Decodes one body (bytes from a frame, or the text of a WebSocket message). */
export function decodeMessage(body: Uint8Array | string): Message {
  const text = typeof body === 'string' ? body : decodeUtf8(body)
  // Bytes scan faster than their UTF-16 text, and nest alike once valid UTF-8.
  checkNestingDepth(body)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new InvalidJsonError(cause)
  }
  return messageFromJson(value)
}

/** The JSON text of a message: exactly `{"code":...,"data":...}`. */
export function encodeMessage(message: Message): string {
  return JSON.stringify({ code: message.code, data: message.data })
}
