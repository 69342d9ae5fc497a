/**
 * Simulations only: a memory network carrying the same block to thousands
 * of nodes in one process would parse, validate and re-encode identical
 * bytes once per node. With `shareBlocks`, each distinct NEW_BLOCK body is
 * decoded once per network; every receiver gets the same deeply frozen
 * message (so no node can change what another sees: a write throws), and
 * relaying a shared block reuses its body. What each node does with the
 * block is unchanged; only duplicated CPU work and memory are saved.
 */
import { decodeMessage, encodeMessage, type Message } from '@chronos/codec'

const NEW_BLOCK_PREFIX = '{"code":"NEW_BLOCK"'

export class SharedBlocks {
  private readonly decoded = new Map<string, Message>()
  private readonly bodies = new WeakMap<object, string>()
  private readonly shared = new WeakSet<object>()

  /** `capacity`: distinct bodies remembered (oldest forgotten first). */
  constructor(private readonly capacity: number) {}

  /** Whether `value` is a block this network decoded once and shares (deeply frozen). */
  isShared(value: object): boolean {
    return this.shared.has(value)
  }

  /** decodeMessage, once per distinct NEW_BLOCK body; throws what decodeMessage throws. */
  decode(body: string): Message {
    if (!body.startsWith(NEW_BLOCK_PREFIX)) return decodeMessage(body)
    const known = this.decoded.get(body)
    if (known) return known
    const message = deepFreeze(decodeMessage(body))
    if (this.decoded.size >= this.capacity)
      this.decoded.delete(this.decoded.keys().next().value as string)
    this.decoded.set(body, message)
    this.shared.add(message.data as object)
    // The body is exactly what encodeMessage makes of the block (it is how it was sent).
    if (body === encodeMessage(message)) this.bodies.set(message.data as object, body)
    return message
  }

  /** encodeMessage, reusing the body of a shared block being relayed. */
  encode(message: Message): string {
    if (message.code === 'NEW_BLOCK') {
      const body = this.bodies.get(message.data)
      if (body !== undefined) return body
    }
    return encodeMessage(message)
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreeze(member)
  }
  return value
}
