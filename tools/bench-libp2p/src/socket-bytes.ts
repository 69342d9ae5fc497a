// Bytes put on the wire, counted at the socket: every node:net Socket that
// writes is remembered with its two ports, and a stack's total is the sum of
// `bytesWritten` over its sockets. Both stacks write through node:net, so
// one count serves both. A socket belongs to a stack when either end is one
// of the stack's listening ports (its outbound sockets reach a peer's
// listener). Ports are read at the first write: a closed socket forgets them.
import { Socket } from 'node:net'

const sockets = new Map<Socket, { local: number; remote: number }>()
let installed = false

/** Starts remembering every socket that writes (idempotent). */
export function installSocketCounter(): void {
  if (installed) return
  installed = true
  const proto = Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>
  for (const method of ['_write', '_writev']) {
    const original = proto[method]!
    proto[method] = function (this: Socket, ...args: unknown[]) {
      if (!sockets.has(this))
        sockets.set(this, { local: this.localPort ?? -1, remote: this.remotePort ?? -1 })
      return original.apply(this, args)
    }
  }
}

/** Bytes written so far by the sockets touching one of `ports`. */
export function bytesWritten(ports: ReadonlySet<number>): number {
  let total = 0
  for (const [socket, { local, remote }] of sockets)
    if (ports.has(local) || ports.has(remote)) total += socket.bytesWritten
  return total
}
